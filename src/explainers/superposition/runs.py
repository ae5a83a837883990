"""The superposition chapter's three runs, as ``charts`` and ``facts`` read them (``runs()``), and the same
runs at toy sizes for tests (``tiny_config()``)."""
from __future__ import annotations

from dataclasses import dataclass

from ..runs import Runs
from ..timeline import Timeline
from .pentagon_sae import train_pentagon_sae
from .toy import phase_diagram, train_toy_model
from .train import ChapterConfig, tiny_config

__all__ = ["SuperpositionRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class SuperpositionRuns(Runs):
    toy: Timeline  # ``toy.train_toy_model``: n=5 features in m=2 dimensions, at each sparsity
    phase: Timeline  # ``toy.phase_diagram``: n=2, m=1 over density and relative importance
    sae: Timeline  # ``pentagon_sae.train_pentagon_sae``: SAEs on the pentagon's hidden layer

    @property
    def represented_norm(self) -> float:
        """‖W_i‖ above this: feature i is represented (the toy run's config, which the phase run shares)."""
        return float(self.toy.meta["config"]["represented_norm"])


def runs(config: ChapterConfig | None = None) -> SuperpositionRuns:
    """The chapter's three runs (from the cache after the first build)."""
    config = config or ChapterConfig()
    return SuperpositionRuns(train_toy_model(config.toy), phase_diagram(config.phase), train_pentagon_sae(config.sae))
