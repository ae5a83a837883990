"""Linear regression as a one-neuron network, trained by full-batch gradient descent.

The neuron is ``y = w·x + b`` (an ``nn.Linear(1, 1)``); the loss is the mean squared error. With a
standardized feature the loss surface over (w, b) is a bowl whose curvature (the Hessian
``2·[[E x², E x], [E x, 1]]``) sets how large a learning rate can be: above ``1/λmax`` each step
overshoots the bottom, above ``2/λmax`` it overshoots by more than it corrects and the run diverges.
Exactly at ``1/λmax``, with both eigenvalues equal (standardized data: H = 2I), one step lands on the
bottom: that step is Newton's.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..cache import cached
from ..data import california_housing, california_housing_files
from ..device import describe, pick
from ..progress import bar
from ..timeline import Timeline

# Median income explains house prices far better than the rooms-per-household "size" proxy
# (the chapter shows both correlations), so the line has something real to find.
FEATURE = "MedInc"
# 0.5 is 1/λmax for a standardized feature (the regime check below confirms it from the data).
BOOK_LEARNING_RATES = (0.02, 0.1, 0.45, 0.5, 0.9, 1.05)


@dataclass(frozen=True)
class RegressionConfig:
    feature: str = FEATURE
    learning_rate: float = 0.1
    steps: int = 60
    w_start: float = -1.0  # a start far from the optimum, so the descent has a path to draw
    b_start: float = 1.5
    diverge_factor: float = 100.0  # a run has diverged once its loss is this many times its start
    landscape_size: int = 61


def standardized(values: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance (population std, so that E x² = 1 exactly)."""
    return (values - values.mean()) / values.std()


def raw_feature(feature: str) -> np.ndarray:
    """The feature as the census recorded it (median income in units of $10,000), not standardized."""
    housing = california_housing()
    names = list(housing.feature_names)
    if feature not in names:
        raise ValueError(f"unknown feature {feature!r}; California Housing has {names}")
    return housing.data[:, names.index(feature)]


def load_xy(feature: str):
    housing = california_housing()
    names = list(housing.feature_names)
    if feature not in names:
        raise ValueError(f"unknown feature {feature!r}; California Housing has {names}")
    x = standardized(housing.data[:, names.index(feature)])
    y = standardized(housing.target)
    correlations = {
        name: float(np.corrcoef(housing.data[:, i], housing.target)[0, 1]) for i, name in enumerate(names)
    }
    return x, y, correlations


def closed_form(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The least-squares (w, b): the bottom of the bowl, found without any descent."""
    design = np.column_stack([x, np.ones_like(x)])
    (w, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(w), float(b)


def hessian(x: np.ndarray) -> np.ndarray:
    return 2.0 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])


def mse_grid(x, y, w_values, b_values) -> np.ndarray:
    """Loss at every (w, b) of a grid, from the data's moments: E[(w x + b - y)²]."""
    ex, ey, exx, exy, eyy = x.mean(), y.mean(), (x * x).mean(), (x * y).mean(), (y * y).mean()
    w, b = np.meshgrid(w_values, b_values)  # rows follow b, columns follow w
    return eyy - 2 * w * exy - 2 * b * ey + w * w * exx + 2 * w * b * ex + b * b


def regime(learning_rate: float, lambda_max: float) -> str:
    if math.isclose(learning_rate * lambda_max, 1.0, rel_tol=1e-9):
        return "one step"  # 1 - η·λmax = 0: the steep direction is done after one step
    if learning_rate > 2.0 / lambda_max:
        return "diverges"
    if learning_rate > 1.0 / lambda_max:
        return "overshoots"
    return "converges"


def descend(x, y, config: RegressionConfig, device):
    """Gradient descent on one neuron; stops early, and says so, once the loss runs away."""
    neuron = torch.nn.Linear(1, 1).to(device)
    with torch.no_grad():
        neuron.weight.fill_(config.w_start)
        neuron.bias.fill_(config.b_start)
    optimizer = torch.optim.SGD(neuron.parameters(), lr=config.learning_rate)
    inputs = torch.tensor(x, dtype=torch.float32, device=device).unsqueeze(1)
    targets = torch.tensor(y, dtype=torch.float32, device=device).unsqueeze(1)

    ws, bs, losses, diverged_at = [], [], [], None
    for step in bar(range(config.steps + 1), desc=f"one neuron, lr={config.learning_rate}"):
        loss = torch.nn.functional.mse_loss(neuron(inputs), targets)
        value = loss.item()
        runaway = bool(losses) and value > config.diverge_factor * losses[0]
        if not np.isfinite(value) or runaway:
            diverged_at = step
            break
        ws.append(neuron.weight.item())
        bs.append(neuron.bias.item())
        losses.append(value)
        if step < config.steps:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return np.array(ws), np.array(bs), np.array(losses), diverged_at


@cached(data=lambda config: california_housing_files())
def train(config: RegressionConfig) -> Timeline:
    device = pick()
    x, y, correlations = load_xy(config.feature)
    ws, bs, losses, diverged_at = descend(x, y, config, device)
    recorded = len(losses)
    # After a divergence the run holds its last finite state, so every frame stays drawable.
    pad = config.steps + 1 - recorded
    ws, bs, losses = (np.concatenate([a, np.repeat(a[-1:], pad)]) for a in (ws, bs, losses))

    w_star, b_star = closed_form(x, y)
    lambdas = np.linalg.eigvalsh(hessian(x))
    raw = raw_feature(config.feature)
    raw_lambdas = np.linalg.eigvalsh(hessian(raw))  # the same bowl over unstandardized income
    radius = 1.6 * max(abs(config.w_start - w_star), abs(config.b_start - b_star))
    w_axis = np.linspace(w_star - radius, w_star + radius, config.landscape_size)
    b_axis = np.linspace(b_star - radius, b_star + radius, config.landscape_size)

    return Timeline(
        frames={"step": np.arange(config.steps + 1), "w": ws, "b": bs, "loss": losses},
        fixed={
            "x": x, "y": y,
            "landscape_w": w_axis, "landscape_b": b_axis, "landscape_loss": mse_grid(x, y, w_axis, b_axis),
        },
        meta={
            "config": asdict(config),
            "feature": config.feature,
            "target": "MedHouseVal",
            "n_samples": int(len(x)),
            "correlations": correlations,
            "w_star": w_star, "b_star": b_star,
            "loss_star": float(np.mean((w_star * x + b_star - y) ** 2)),
            "lambda_max": float(lambdas[-1]), "lambda_min": float(lambdas[0]),
            "raw": {"mean": float(raw.mean()), "std": float(raw.std()),
                    "lambda_max": float(raw_lambdas[-1]), "lambda_min": float(raw_lambdas[0])},
            "lr_overshoot": float(1.0 / lambdas[-1]), "lr_diverge": float(2.0 / lambdas[-1]),
            "regime": regime(config.learning_rate, float(lambdas[-1])),
            "diverged_at": diverged_at,
            "recorded_steps": recorded,
            "final": {"w": float(ws[-1]), "b": float(bs[-1]), "loss": float(losses[-1])},
            "run": describe(device),
        },
    )


def tiny_config() -> RegressionConfig:
    """A few steps on a coarse landscape, for tests."""
    return RegressionConfig(steps=8, landscape_size=11)

