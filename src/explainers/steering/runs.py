"""The steering chapter's runs, as ``charts`` and ``facts`` read them (``runs()``), and a run small enough
for tests (``tiny_config()``): the steering run itself (``train.run``: a matching record, else measured
and cached) and the records it stands on (the recipe search, the Golden Gate dose experiment, the runs on
the retired held-out sets; ``records/``)."""
from __future__ import annotations

from dataclasses import dataclass

from ..runs import Runs
from ..timeline import Timeline
from .train import SteeringConfig, book_config, latest_record, run, search_record, strength_record, tiny_config
from .words import RETIRED_SETS

__all__ = ["SteeringRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class SteeringRuns(Runs):
    steered: Timeline  # the stored run: every concept x method x strength, answered and scored
    concepts: tuple[str, ...]  # the concepts steered toward
    concept_names: dict  # concept -> its name in the text
    strengths: tuple[float, ...]
    prompts: tuple  # the held-out (prompt, a person's answer) pairs
    max_new_tokens: int
    chosen: tuple  # (concept, method, strength) the search chose on the training prompts
    recipe: dict  # rule, edit, positions, repetition_penalty
    settings: tuple[dict, ...]  # each concept x method x strength: answers, mentions, loss, repetition
    human: dict  # the same model's loss and repetition on the people's answers
    features: dict  # concept -> the chosen feature and its measures
    layer: int  # the block whose residual stream is edited
    n_layers: int | None = None
    d_sae: int | None = None
    n_generations: int | None = None
    generation_s: float | None = None
    total_s: float | None = None
    median_norm: float | None = None
    device: str = ""
    device_name: str = ""
    torch_version: str = ""
    transformers_version: str = ""
    search: dict | None = None  # the recorded recipe search whose choices the run uses
    dose: dict | None = None  # the recorded dose experiment
    earlier_held_out: tuple[dict, ...] = ()  # the runs on the retired held-out sets, oldest first (``retired``)
    curves: dict | None = None  # the recorded strength curves the headline strengths were chosen on
    recorded: dict | None = None  # the provenance of the record the run was read from; None: measured here

    @classmethod
    def from_timeline(cls, t: Timeline, search: dict | None = None, dose: dict | None = None,
                      earlier_held_out: tuple[dict, ...] = (), curves: dict | None = None) -> "SteeringRuns":
        meta, config = t.meta, t.meta["config"]
        where = meta.get("run", {})
        return cls(
            t, tuple(config["concepts"]), meta["concept_names"], tuple(float(s) for s in config["strengths"]),
            tuple(config["prompts"]), config["max_new_tokens"], tuple(config["chosen"]), config["recipe"],
            tuple(meta["settings"]), meta["human"], meta["features"], meta["layer"], meta.get("n_layers"),
            config.get("chapter", {}).get("sae", {}).get("d_sae"), meta.get("n_generations"),
            meta.get("generation_s"), meta.get("total_s"), meta.get("median_norm"), where.get("device", ""),
            where.get("device_name", ""), where.get("torch", ""), meta.get("transformers", ""),
            search, dose, tuple(earlier_held_out), curves, meta.get("recorded"))


RETIRED = tuple(f"{n}-held-out" for n in RETIRED_SETS)  # the retired sets' record kinds, oldest first


def retired(record: dict, kind: str) -> dict:
    """A retired held-out run's settings, people's answers, config, provenance and record kind, from either
    record form: the first was written by an earlier recorder with these at the top, the later ones as
    ``*-steered``."""
    inner = record.get("meta", record)
    return {"config": inner["config"], "settings": inner["settings"], "human": inner["human"],
            "provenance": record["provenance"], "kind": kind}


def runs(config: SteeringConfig | None = None) -> SteeringRuns:
    """The chapter's steering run (from the cache when nothing changed) and its records."""
    earlier = tuple(retired(r, kind) for kind in RETIRED if (r := latest_record(kind)) is not None)
    return SteeringRuns.from_timeline(run(config or book_config()), search_record(), latest_record("dose"), earlier,
                                      strength_record())
