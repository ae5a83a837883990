"""The CartPole chapter's run, as ``charts`` and ``facts`` read it (``runs()``), and a run of three updates
for tests (``tiny_config()``).

Episodes are indexed from 0 here, as in the Timeline; the chapter numbers them from 1 for the reader."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..runs import Runs
from ..timeline import Timeline
from .train import CartPoleConfig, tiny_config, train

__all__ = ["CartPoleRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class CartPoleRuns(Runs):
    timeline: Timeline  # the stored run
    # the task, as gymnasium defines it
    theta_threshold_radians: float  # the pole falls past this angle: the episode ends
    x_threshold: float  # the cart leaves the track past this position
    max_episode_steps: int
    reward_threshold: float  # the average reward that counts as solved ...
    solve_window: int  # ... over this many consecutive episodes
    seconds_per_step: float  # how long one step stands for
    # the agent and its training
    algorithm: str
    hidden_layers: tuple[int, ...]
    activation: str
    optimizer: str
    lr: float
    gamma: float
    episodes_per_update: int
    seed: int
    max_episodes: int
    eval_episodes: int  # test episodes per checkpoint (the median-length one is recorded)
    early_level: float  # steps a typical test episode must last for the "early" checkpoint
    middle_level: float
    # what the run did
    solved: bool
    episodes_to_solve: int | None
    n_episodes: int
    n_updates: int
    final_average: float
    train_wall_time_s: float
    checkpoints: tuple[str, ...]  # the checkpoints' names
    checkpoint_episodes: tuple[int, ...]  # the first training episode each checkpoint's weights played
    checkpoint_updates: tuple[int, ...]
    checkpoint_rules: tuple[str, ...]  # how each was picked
    # per training episode
    episode: np.ndarray
    reward: np.ndarray
    moving_average: np.ndarray
    update: np.ndarray
    # per checkpoint: its recorded episode (NaN-padded past the end) and its policy over a (θ, θ̇) grid
    eval_length: np.ndarray
    eval_lengths: np.ndarray  # (checkpoint, test episode)
    eval_x: np.ndarray
    eval_theta: np.ndarray
    eval_theta_dot: np.ndarray
    eval_action: np.ndarray
    eval_p_right: np.ndarray
    grid_theta: np.ndarray
    grid_theta_dot: np.ndarray
    p_right: np.ndarray  # (checkpoint, θ̇ row, θ column)
    # where it ran
    device: str
    device_name: str
    cpu_count: int | None
    torch_threads: int | None
    torch_version: str
    gymnasium_version: str

    @classmethod
    def from_timeline(cls, t: Timeline) -> "CartPoleRuns":
        meta, limits, hyper, config = t.meta, t.meta["limits"], t.meta["hyperparameters"], t.meta["config"]
        device, versions = meta["device"], meta["versions"]
        return cls(
            t, limits["theta_threshold_radians"], limits["x_threshold"], limits["max_episode_steps"],
            limits["reward_threshold"], meta["solve_window"], meta["seconds_per_step"],
            meta["algorithm"], tuple(hyper["hidden_layers"]), hyper["activation"], hyper["optimizer"], hyper["lr"],
            hyper["gamma"], hyper["episodes_per_update"], config["seed"], config["max_episodes"],
            meta["eval"]["episodes"], config["early_level"], config["middle_level"],
            meta["solved"], meta["episodes_to_solve"], meta["n_episodes"], meta["n_updates"], meta["final_average"],
            meta["train_wall_time_s"], tuple(meta["checkpoints"]), tuple(meta["checkpoint_episodes"]),
            tuple(meta["checkpoint_updates"]), tuple(meta["checkpoint_rules"]),
            t["episode"], t["reward"], t["moving_average"], t["update"],
            t["eval_length"], t["eval_lengths"], t["eval_x"], t["eval_theta"], t["eval_theta_dot"],
            t["eval_action"], t["eval_p_right"], t["grid_theta"], t["grid_theta_dot"], t["p_right"],
            device["device"], device["device_name"], device.get("cpu_count"), device.get("torch_threads"),
            versions["torch"], versions["gymnasium"])


def runs(config: CartPoleConfig | None = None) -> CartPoleRuns:
    """The chapter's training run (the default config, seeded), read from the cache when it is there."""
    return CartPoleRuns.from_timeline(train(config or CartPoleConfig()))
