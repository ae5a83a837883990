"""The real-model chapter's runs, as ``charts`` and ``facts`` read them (``runs()``), and a pipeline small
enough for tests (``tiny_config()``). The runs come from ``train`` (the SAE's training and everything
measured with it, cached) and from ``records/``."""
from __future__ import annotations

from dataclasses import dataclass

from ..lm.stages import ChapterConfig, book_config
from ..runs import Runs
from ..timeline import Timeline
from .train import analyse, recorded, tiny_config, train

__all__ = ["RealModelRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class RealModelRuns(Runs):
    trained: Timeline  # the SAE's training run
    analysis: Timeline  # everything measured with it
    records: dict  # runs too long for a build, recorded with their device and date (``records/``)


def runs(config: ChapterConfig | None = None) -> RealModelRuns:
    """The chapter's runs, from the cache when nothing changed, and its records."""
    config = config or book_config()
    return RealModelRuns(train(config), analyse(config), recorded())
