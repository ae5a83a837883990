"""The un-mixer chapter's runs, as ``charts`` and ``facts`` read them: the dictionary trained on one drawing
at every sparsity strength of ``SPARSITY_GRID`` (``runs()``), and 20 steps of it for tests
(``tiny_config()``)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..runs import Runs
from ..timeline import Timeline
from .config import SPARSITY_GRID, DictionaryConfig
from .train import tiny_config, train_dictionary

__all__ = ["Dictionary", "UnmixerRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class Dictionary:
    """One sparsity strength's run, checkpoint by checkpoint."""
    sparsity: float  # λ
    step: np.ndarray
    atoms: np.ndarray  # (checkpoint, atom, 64): each atom an 8x8 patch
    firing_frequency: np.ndarray  # (checkpoint, atom)
    explained_variance: np.ndarray
    l0: np.ndarray  # atoms used per patch, on average
    dead: np.ndarray  # atoms that never fire
    drawing: np.ndarray  # the drawing, as ink bytes
    reconstruction: np.ndarray  # the drawing rebuilt from its atoms, as ink bytes
    train_s: float
    steps_per_s: float
    timeline: Timeline  # the stored run

    @property
    def n_frames(self) -> int:
        return len(self.step)

    @classmethod
    def from_timeline(cls, t: Timeline) -> "Dictionary":
        return cls(t.meta["config"]["sparsity"], t["step"], t["atoms"], t["firing_frequency"],
                   t["explained_variance"], t["l0"], t["dead"], t["drawing"], t["reconstruction"],
                   t.meta["train_s"], t.meta["steps_per_s"], t)


@dataclass(frozen=True)
class UnmixerRuns(Runs):
    dictionaries: tuple[Dictionary, ...]  # from the weakest sparsity strength to the strongest
    book_sparsity: float  # the strength the chapter's text quotes (the config's)
    drawing_name: str
    n_patches: int
    n_atoms: int
    steps: int
    batch_size: int
    lr: float
    device: str
    device_name: str

    @property
    def book(self) -> Dictionary:
        return next(d for d in self.dictionaries if d.sparsity == self.book_sparsity)

    @classmethod
    def from_timelines(cls, timelines: list[Timeline], book_sparsity: float) -> "UnmixerRuns":
        meta = timelines[0].meta
        config, device = meta["config"], meta["device"]
        return cls(tuple(Dictionary.from_timeline(t) for t in timelines), book_sparsity, config["drawing"],
                   meta["n_patches"], config["n_atoms"], config["steps"], config["batch_size"], config["lr"],
                   device["device"], device["device_name"])


def runs(config: DictionaryConfig | None = None) -> UnmixerRuns:
    """The chapter's runs: ``config`` (the book's by default) at every strength of ``SPARSITY_GRID``; its
    own strength is the one the text quotes."""
    config = config or DictionaryConfig()
    timelines = [train_dictionary(replace(config, sparsity=float(s))) for s in SPARSITY_GRID]
    return UnmixerRuns.from_timelines(timelines, config.sparsity)
