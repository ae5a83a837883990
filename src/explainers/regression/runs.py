"""The one-neuron chapter's runs, as ``charts`` and ``facts`` read them: one gradient descent per learning
rate on the same data (``runs()``), and a few steps on a coarse landscape for tests (``tiny_config()``)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..runs import Runs
from ..timeline import Timeline
from .train import BOOK_LEARNING_RATES, RegressionConfig, tiny_config, train

__all__ = ["Descent", "RegressionRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class Descent:
    """One learning rate's run: (w, b) and the loss at every step."""
    learning_rate: float
    regime: str  # what the Hessian predicts at this rate: "converges", "one step", "overshoots", "diverges"
    diverged_at: int | None  # the step whose loss ran away; frames from there hold the last finite state
    recorded_steps: int  # steps before a divergence (all of them otherwise)
    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    final_w: float
    final_b: float
    final_loss: float
    timeline: Timeline  # the stored run

    @classmethod
    def from_timeline(cls, t: Timeline) -> "Descent":
        meta, final = t.meta, t.meta["final"]
        return cls(meta["config"]["learning_rate"], meta["regime"], meta["diverged_at"], meta["recorded_steps"],
                   t["w"], t["b"], t["loss"], final["w"], final["b"], final["loss"], t)


@dataclass(frozen=True)
class RegressionRuns(Runs):
    descents: tuple[Descent, ...]  # from the slowest learning rate to the divergent one
    feature: str  # the census column the neuron reads (standardized)
    n_samples: int
    correlations: dict  # feature name -> its correlation with the house value
    steps: int
    w_start: float
    b_start: float
    diverge_factor: float  # a run has diverged once its loss is this many times its start
    # the least-squares optimum and the curvature of the loss (the Hessian's eigenvalues)
    w_star: float
    b_star: float
    loss_star: float
    lambda_max: float
    lambda_min: float
    lr_overshoot: float  # 1/λmax
    lr_diverge: float  # 2/λmax
    # the same bowl over the feature as recorded (median income in $10,000), not standardized
    raw_mean: float
    raw_std: float
    raw_lambda_max: float
    raw_lambda_min: float
    device: str
    device_name: str
    torch_version: str
    step: np.ndarray
    x: np.ndarray
    y: np.ndarray
    landscape_w: np.ndarray
    landscape_b: np.ndarray
    landscape_loss: np.ndarray  # loss over the (w, b) grid

    @classmethod
    def from_timelines(cls, timelines: list[Timeline]) -> "RegressionRuns":
        first = timelines[0]
        meta, config, raw, run = first.meta, first.meta["config"], first.meta["raw"], first.meta["run"]
        return cls(
            tuple(Descent.from_timeline(t) for t in timelines), meta["feature"], meta["n_samples"],
            dict(meta["correlations"]), config["steps"], config["w_start"], config["b_start"],
            config["diverge_factor"], meta["w_star"], meta["b_star"], meta["loss_star"], meta["lambda_max"],
            meta["lambda_min"], meta["lr_overshoot"], meta["lr_diverge"], raw["mean"], raw["std"],
            raw["lambda_max"], raw["lambda_min"], run["device"], run["device_name"], run["torch"],
            first["step"], first["x"], first["y"], first["landscape_w"], first["landscape_b"],
            first["landscape_loss"])


def runs(config: RegressionConfig | None = None) -> RegressionRuns:
    """The chapter's runs: one per learning rate, from slow to divergent (otherwise ``config``'s settings)."""
    config = config or RegressionConfig()
    return RegressionRuns.from_timelines([train(replace(config, learning_rate=lr)) for lr in BOOK_LEARNING_RATES])
