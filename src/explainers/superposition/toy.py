"""Toy models of superposition (Elhage et al. 2022): five features in two dimensions.

Each input x ∈ Rⁿ has features that are 0 with probability S (the sparsity) and otherwise uniform on
[0, 1]; p = 1 - S is the feature probability (density). The model squeezes x through m < n hidden
dimensions and tries to get it back:

    h  = W x                    (W is m × n: column W[:, i] is feature i's direction in the hidden space)
    x' = ReLU(Wᵀ h + b)
    L  = E_x Σ_i I_i (x_i - x'_i)²      with importance I_i = 0.9^i

Many models (sparsities × seeds, or a whole phase-diagram grid) train at once as ONE batched tensor:
instance k has its own W[k] and b[k], its own feature probability and importance, and the losses are
summed, so every instance follows its own gradient.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick, torch_threads
from ..progress import bar
from ..timeline import Timeline, display_frames
from .geometry import (PHASE_NAMES, REPRESENTED_NORM, classify_phase, feature_norms, neighbour_angles,
                       superposition)

# --- the book's settings ------------------------------------------------------------------------------


@dataclass
class ToyConfig:
    n_features: int = 5
    n_hidden: int = 2
    # p = 1 - S, from dense (S = 0) to very sparse (S = 0.99): 2, then 4, then 5 features
    feature_probability: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03, 0.01)
    importance_decay: float = 0.9  # I_i = 0.9^i
    n_seeds: int = 6  # initialisations per sparsity; the lowest-loss one is displayed
    seed: int = 0
    steps: int = 1500
    batch_size: int = 512
    lr: float = 1e-2  # cosine-decayed to 0
    weight_decay: float = 1e-2  # AdamW's default: unused columns shrink to 0 instead of lingering
    eval_size: int = 4096  # fixed held-out inputs (shared by all instances) for the loss we report
    represented_norm: float = REPRESENTED_NORM  # ‖W_i‖ above this: feature i is represented
    max_frames: int = 100  # steps recorded (evenly spread, the last included): what a reader scrubs through


@dataclass
class PhaseConfig:
    """n = 2 features, m = 1 hidden dimension: feature 1 has importance 1, the extra feature 2 has
    importance r."""

    density_min: float = 0.01
    density_max: float = 1.0
    n_density: int = 12  # log-spaced
    importance_min: float = 0.1
    importance_max: float = 10.0
    n_importance: int = 12  # log-spaced relative importance r of the extra feature
    n_seeds: int = 3  # per cell; the lowest-loss one is classified (the best solution found)
    seed: int = 0
    steps: int = 800  # exact gradients (no sampling noise) converge fast
    levels: int = 12  # values per feature in the exact expected loss (see every_input)
    lr: float = 3e-2
    weight_decay: float = 1e-2
    max_frames: int = 40
    represented_norm: float = REPRESENTED_NORM  # |w_i| above this: feature i is represented


# --- the model, as in the math above -----------------------------------------------------------------


def sample_features(p: torch.Tensor, batch_size: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """x for every instance: (instances, batch, n). Each feature is present with probability p[k].

    All instances share the same random draws (common random numbers), so instances differ only by
    what they are asked to learn, and the draws cost O(batch) not O(instances × batch). The draws come
    from a CPU generator, so a run gets the same data on a CPU and on a GPU.
    """
    values, chance = torch.rand(2, batch_size, n, generator=generator).to(p.device)
    return values * (chance < p[:, None, None])


def every_input(p: torch.Tensor, n: int, levels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All inputs of the distribution with values rounded to `levels` midpoints, and their probabilities.

    Each x_i is 0 with probability 1 - p, else one of the midpoints (j + ½)/levels with p/levels each.
    Summing the loss over these (levels + 1)ⁿ inputs gives the expected loss with no sampling noise,
    which a sparse setting needs: at p = 0.01 a batch of 256 holds about 2.5 examples of each feature.
    Returns x: (points, n) shared by all instances, and P(x): (instances, points).
    """
    values = torch.cat([torch.zeros(1), (torch.arange(levels) + 0.5) / levels]).to(p.device)
    x = torch.cartesian_prod(*[values] * n).reshape(-1, n)
    prob = torch.where(x > 0, p[:, None, None] / levels, 1 - p[:, None, None]).prod(-1)
    return x, prob


def reconstruct(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x' = ReLU(Wᵀ W x + b), batched over instances. W: (k, m, n), b: (k, n), x: (k, batch, n).

    Rows of x are inputs, so Wᵀ W x is x @ (WᵀW); forming the n × n product WᵀW first is one small
    matmul instead of two thin ones (3-8× faster on a CPU) and the same math.
    """
    return torch.relu(torch.baddbmm(b[:, None, :], x, W.mT @ W))


def weighted_mse(W, b, x, importance, prob=None) -> torch.Tensor:
    """L = Σ_x P(x) Σ_i I_i (x_i - x'_i)², one value per instance. importance: (k, n).

    x: (k, batch, n) sampled inputs, each with P(x) = 1/batch;
    or (points, n) inputs shared by all instances, with their probabilities prob: (k, points).
    """
    if x.dim() == 2:
        x = x.expand(W.shape[0], *x.shape)
    error = (importance[:, None, :] * (x - reconstruct(W, b, x)) ** 2).sum(-1)
    return error.mean(-1) if prob is None else (prob * error).sum(-1)


def init_weights(n_instances: int, m: int, n: int, seeds: list[int]) -> torch.Tensor:
    """Xavier-normal W per instance; instance k starts from its own seed, so runs are reproducible."""
    W = torch.empty(n_instances, m, n)
    for k, seed in enumerate(seeds):
        torch.nn.init.xavier_normal_(W[k], generator=torch.Generator().manual_seed(seed))
    return W


def train_instances(W, importance, draw, evaluate, *, steps, lr, weight_decay, checkpoints, desc):
    """Train every instance at once with AdamW on the loss summed over instances.

    draw(): a training batch (x, prob or None); evaluate: the fixed inputs (x, prob or None) whose loss
    we report. Returns W, b and that loss at each checkpoint step, as numpy arrays.
    """
    device = W.device
    W = W.clone().requires_grad_()
    b = torch.zeros(W.shape[0], W.shape[2], device=device, requires_grad=True)
    optimizer = torch.optim.AdamW([W, b], lr=lr, weight_decay=weight_decay)
    record = {"W": [], "b": [], "loss": []}
    checkpoints = set(int(s) for s in checkpoints)
    with torch_threads(1):
        for step in bar(range(steps + 1), desc=desc):
            if step in checkpoints:
                with torch.no_grad():
                    record["loss"].append(weighted_mse(W, b, evaluate[0], importance, evaluate[1]).cpu())
                record["W"].append(W.detach().cpu().clone())
                record["b"].append(b.detach().cpu().clone())
            if step == steps:
                break
            for group in optimizer.param_groups:  # cosine decay: big steps find the shape, small settle it
                group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * step / steps))
            x, prob = draw()
            loss = weighted_mse(W, b, x, importance, prob).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return {name: torch.stack(values).numpy() for name, values in record.items()}


# --- the chapter's runs -------------------------------------------------------------------------------


@cached
def train_toy_model(config: ToyConfig = ToyConfig()) -> Timeline:
    """Five features, two hidden dimensions, at each sparsity; the lowest-loss seed per sparsity is displayed."""
    n, m = config.n_features, config.n_hidden
    n_sparsity, n_seeds = len(config.feature_probability), config.n_seeds
    p = torch.tensor(config.feature_probability).repeat_interleave(n_seeds)  # instance k = (sparsity, seed)
    importance = config.importance_decay ** torch.arange(n, dtype=torch.float32)
    seeds = [config.seed + s for s in range(n_seeds)] * n_sparsity
    device = pick()
    p = p.to(device)
    generator = torch.Generator().manual_seed(config.seed)
    held_out = (sample_features(p, config.eval_size, n, generator), None)
    steps = display_frames(config.steps + 1, config.max_frames)  # the steps the chart shows, and no others
    run = train_instances(
        init_weights(len(p), m, n, seeds).to(device), importance.expand(len(p), n).to(device),
        draw=lambda: (sample_features(p, config.batch_size, n, generator), None), evaluate=held_out,
        steps=config.steps, lr=config.lr, weight_decay=config.weight_decay, checkpoints=steps,
        desc="superposition: toy models")

    W = run["W"].reshape(len(steps), n_sparsity, n_seeds, m, n)
    b = run["b"].reshape(len(steps), n_sparsity, n_seeds, n)
    loss = run["loss"].reshape(len(steps), n_sparsity, n_seeds)
    final_loss = loss[-1]
    shown = final_loss.argmin(axis=1)  # the display rule: lowest final loss among the seeds
    pick_shown = lambda a: a[:, np.arange(n_sparsity), shown]  # noqa: E731
    W_shown = pick_shown(W)

    final_norms = feature_norms(W[-1])  # (sparsity, seed, n)
    represented = (final_norms > config.represented_norm).sum(-1)
    sparsest = int(np.argmin(config.feature_probability))
    return Timeline(
        frames={
            "step": steps,
            "W_columns": np.swapaxes(W_shown, -1, -2),  # (frame, sparsity, feature, 2): feature arrows
            "b": pick_shown(b),
            "loss": pick_shown(loss),
            "feature_norm": feature_norms(W_shown),
            "superposition": superposition(W_shown),
        },
        fixed={
            "feature_probability": np.array(config.feature_probability),
            "sparsity": 1 - np.array(config.feature_probability),
            "importance": importance.numpy(),
            "shown_seed": shown,
            "final_loss": final_loss,
            "final_W_columns": np.swapaxes(W[-1], -1, -2),  # (sparsity, seed, feature, 2)
            "final_b": b[-1],
            "n_represented": represented,  # (sparsity, seed)
        },
        meta={
            "config": plain_config(config),
            "device": describe(device),
            "settings": {"n_features": n, "n_hidden": m,
                         "sparsity": [round(1 - q, 6) for q in config.feature_probability],
                         "importance": [round(v, 6) for v in importance.tolist()],
                         "steps": config.steps, "lr": config.lr, "lr_schedule": "cosine to 0",
                         "optimizer": "AdamW", "weight_decay": config.weight_decay,
                         "batch_size": config.batch_size},
            "shown_seed_rule": "lowest final loss on the fixed held-out inputs",
            "shown_seed": [config.seed + int(s) for s in shown],
            "n_represented_shown": [int(represented[k, s]) for k, s in enumerate(shown)],
            "n_represented_all_seeds": represented.tolist(),
            "represented_rule": f"feature norm > {config.represented_norm:g}",
            "pentagon_angles_deg": [round(float(a), 2) for a in neighbour_angles(W_shown[-1, sparsest].T)],
            "pentagon_feature_norms": [round(float(v), 3) for v in feature_norms(W_shown[-1, sparsest])],
        },
    )


@cached
def phase_diagram(config: PhaseConfig = PhaseConfig()) -> Timeline:
    """n=2, m=1 over feature density × relative importance of the extra feature, classified from W."""
    density = np.geomspace(config.density_min, config.density_max, config.n_density)
    relative = np.geomspace(config.importance_min, config.importance_max, config.n_importance)
    D, R, n_seeds = len(density), len(relative), config.n_seeds
    # instance k = (density, importance, seed), in that order
    p = torch.tensor(density, dtype=torch.float32).repeat_interleave(R * n_seeds)
    r = torch.tensor(relative, dtype=torch.float32).repeat_interleave(n_seeds).repeat(D)
    importance = torch.stack([torch.ones_like(r), r], dim=1)
    seeds = [config.seed + s for s in range(n_seeds)] * (D * R)
    device = pick()
    inputs = every_input(p.to(device), 2, config.levels)  # the exact expected loss: no sampling noise
    steps = display_frames(config.steps + 1, config.max_frames)
    run = train_instances(
        init_weights(len(p), 1, 2, seeds).to(device), importance.to(device),
        draw=lambda: inputs, evaluate=inputs,
        steps=config.steps, lr=config.lr, weight_decay=config.weight_decay, checkpoints=steps,
        desc="superposition: phase diagram")

    W = run["W"].reshape(len(steps), D, R, n_seeds, 2)  # m = 1: W is the row (w_1, w_2)
    b = run["b"].reshape(len(steps), D, R, n_seeds, 2)
    loss = run["loss"].reshape(len(steps), D, R, n_seeds)
    best = loss.argmin(axis=-1)  # per frame and cell: the best solution found so far
    W_best = np.take_along_axis(W, best[..., None, None], axis=3)[..., 0, :]
    phase = classify_phase(W_best, config.represented_norm)
    counts = {name: int((phase[-1] == c).sum()) for c, name in enumerate(PHASE_NAMES)}
    return Timeline(
        frames={"step": steps, "phase": phase, "W": W_best,
                "loss": np.take_along_axis(loss, best[..., None], axis=3)[..., 0]},
        fixed={
            "density": density,
            "relative_importance": relative,
            "final_W": W[-1],  # (density, importance, seed, 2): every seed's raw W
            "final_b": b[-1],
            "final_loss": loss[-1],
            "best_seed": best[-1],
        },
        meta={
            "config": plain_config(config),
            "device": describe(device),
            "phase_names": PHASE_NAMES,
            "phase_rule": f"|w_i| > {config.represented_norm} means feature i is represented; both "
                          "represented with opposite signs is superposition",
            "phase_counts": counts,
            "settings": {"n_features": 2, "n_hidden": 1, "steps": config.steps, "lr": config.lr,
                         "lr_schedule": "cosine to 0", "optimizer": "AdamW",
                         "weight_decay": config.weight_decay, "importance": "(1, r)",
                         "loss": f"exact expectation over {config.levels + 1}² inputs"},
        },
    )


def plain_config(config) -> dict:
    """A dataclass config as plain JSON values (tuples become lists), for a Timeline's meta."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))
