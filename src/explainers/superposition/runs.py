"""The superposition chapter's three runs, as ``charts`` and ``facts`` read them (``runs()``), and the same
runs at toy sizes for tests (``tiny_config()``).

Each run keeps its Timeline (the stored form, whose arrays the charts thin and ship) beside typed fields
for the settings and results the charts and facts quote."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..runs import Runs
from ..timeline import Timeline
from .pentagon_sae import train_pentagon_sae
from .toy import phase_diagram, train_toy_model
from .train import ChapterConfig, tiny_config

__all__ = ["PentagonSAERun", "PhaseRun", "SuperpositionRuns", "ToyRun", "runs", "tiny_config"]


@dataclass(frozen=True)
class ToyRun:
    """n features in m hidden dimensions, one instance shown per sparsity (``toy.train_toy_model``)."""
    timeline: Timeline  # frames: step, W_columns, b, loss, feature_norm, superposition; fixed: importance, ...
    n_features: int
    n_hidden: int
    sparsity: tuple[float, ...]
    importance: tuple[float, ...]
    importance_decay: float
    steps: int
    lr: float
    batch_size: int
    weight_decay: float
    represented_norm: float  # ‖W_i‖ above this: feature i is represented
    represented_rule: str  # the same rule, in words
    n_represented_shown: tuple[int, ...]  # per sparsity, in the instance shown
    n_represented_all_seeds: np.ndarray  # (sparsity, seed)
    pentagon_angles_deg: tuple[float, ...]  # at the sparsest setting
    pentagon_feature_norms: tuple[float, ...]
    device: str
    device_name: str
    torch_version: str

    @classmethod
    def from_timeline(cls, t: Timeline) -> "ToyRun":
        meta, s, config, device = t.meta, t.meta["settings"], t.meta["config"], t.meta["device"]
        return cls(t, s["n_features"], s["n_hidden"], tuple(s["sparsity"]), tuple(s["importance"]),
                   config["importance_decay"], s["steps"], s["lr"], s["batch_size"], s["weight_decay"],
                   config["represented_norm"], meta["represented_rule"], tuple(meta["n_represented_shown"]),
                   np.array(meta["n_represented_all_seeds"]), tuple(meta["pentagon_angles_deg"]),
                   tuple(meta["pentagon_feature_norms"]), device["device"], device["device_name"], device["torch"])


@dataclass(frozen=True)
class PhaseRun:
    """n=2, m=1 over density and relative importance (``toy.phase_diagram``)."""
    timeline: Timeline  # frames: step, phase, W, loss; fixed: density, relative_importance, ...
    n_seeds: int
    steps: int
    lr: float
    loss: str  # how the loss is computed, in words
    represented_norm: float
    phase_rule: str
    superposed_cells: int
    other_cells: int

    @classmethod
    def from_timeline(cls, t: Timeline) -> "PhaseRun":
        meta, s = t.meta, t.meta["settings"]
        counts = meta["phase_counts"]
        return cls(t, meta["config"]["n_seeds"], s["steps"], s["lr"], s["loss"], meta["config"]["represented_norm"],
                   meta["phase_rule"], counts["both stored antipodally (superposition)"], counts["other"])


@dataclass(frozen=True)
class PentagonSAERun:
    """SAEs on the pentagon's hidden layer, per dictionary and seed (``pentagon_sae.train_pentagon_sae``)."""
    timeline: Timeline  # frames: step, decoder, best_cosine, ...; fixed: feature_directions, seeds, ...
    run_labels: tuple[str, ...]  # d_sae=5, d_sae=5 with resampling, d_sae=10
    n_features: int
    feature_probability: float
    steps: int
    lr: float
    batch_size: int
    l1_coefficient: float
    seeds: tuple[int, ...]
    resample_steps: tuple[int, ...]
    n_inputs: int
    dead_window: int
    recovered_cosine: float  # a direction is recovered by a live latent with a cosine above this
    recovered_rule: str
    dead_rule: str
    shown_seed: int
    shown: dict  # run label -> {"recovered": count, "dead": count} for the seed shown
    all_five_recovered: dict  # run label -> "k of S seeds"
    dead_latents: dict  # run label -> dead latents per seed
    l0: dict  # run label -> final L0 per seed
    explained_variance: dict  # run label -> final explained variance per seed

    @classmethod
    def from_timeline(cls, t: Timeline) -> "PentagonSAERun":
        meta, s, config = t.meta, t.meta["settings"], t.meta["config"]
        return cls(t, tuple(meta["run_labels"]), s["n_features"], s["feature_probability"], s["steps"], s["lr"],
                   s["batch_size"], s["l1_coefficient"], tuple(s["seeds"]), tuple(s["resample_steps"]),
                   config["n_inputs"], config["dead_window"], config["recovered_cosine"], meta["recovered_rule"],
                   meta["dead_rule"], meta["shown_seed"], meta["shown"], meta["all_five_recovered"],
                   meta["dead_latents"], meta["l0"], meta["explained_variance"])


@dataclass(frozen=True)
class SuperpositionRuns(Runs):
    toy: ToyRun
    phase: PhaseRun
    sae: PentagonSAERun


def runs(config: ChapterConfig | None = None) -> SuperpositionRuns:
    """The chapter's three runs (from the cache after the first build)."""
    config = config or ChapterConfig()
    return SuperpositionRuns(ToyRun.from_timeline(train_toy_model(config.toy)),
                             PhaseRun.from_timeline(phase_diagram(config.phase)),
                             PentagonSAERun.from_timeline(train_pentagon_sae(config.sae)))
