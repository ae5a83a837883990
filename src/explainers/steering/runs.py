"""The steering chapter's runs, as ``charts`` and ``facts`` read them (``runs()``), and a run small enough
for tests (``tiny_config()``): the steering run itself (``train.run``, cached) and the records it stands
on (the recipe search, the Golden Gate dose experiment, the first held-out run; ``records/``)."""
from __future__ import annotations

from dataclasses import dataclass

from ..runs import Runs
from ..timeline import Timeline
from .train import SteeringConfig, book_config, latest_record, run, search_record, tiny_config

__all__ = ["SteeringRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class SteeringRuns(Runs):
    steered: Timeline  # every concept x method x strength, answered and scored
    search: dict | None = None  # the recorded recipe search whose choices the run uses
    dose: dict | None = None  # the recorded dose experiment
    first_held_out: dict | None = None  # the first run on the held-out prompts, before the recipe changed


def runs(config: SteeringConfig | None = None) -> SteeringRuns:
    """The chapter's steering run (from the cache when nothing changed) and its records."""
    return SteeringRuns(run(config or book_config()), search_record(), latest_record("dose"),
                        latest_record("first-held-out"))
