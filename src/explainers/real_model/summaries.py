"""Summaries the page's text and charts both read: explanation scores per pool with intervals, and the
rule that turns an interval into a verdict."""
from __future__ import annotations

import numpy as np

BOOTSTRAP = 2000
POOL_LABELS = {"feature": "random SAE features", "neuron": "random MLP neurons", "basis": "random residual coordinates",
               "random": "random residual directions", "shuffled": "another unit's explanation (floor)"}


def scores(records: list[dict], kind: str | None, why: str = "random", field: str = "score") -> np.ndarray:
    """The explanation scores of one pool's units drawn as ``why``; ``kind=None``: every pool's."""
    return np.array([r[field] for r in records if r["why"] == why and (kind is None or r["kind"] == kind)
                     and field in r], dtype=float)


def median_interval(values: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """The median and a bootstrap 95 % interval of it over the units."""
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    medians = np.median(values[rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))], axis=1)
    return float(np.median(values)), float(np.percentile(medians, 2.5)), float(np.percentile(medians, 97.5))


def median_difference(a: np.ndarray, b: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """median(a) − median(b) with a bootstrap 95 % interval (each group resampled on its own)."""
    rng = np.random.default_rng(seed)
    ra = np.median(a[rng.integers(0, len(a), size=(BOOTSTRAP, len(a)))], axis=1)
    rb = np.median(b[rng.integers(0, len(b), size=(BOOTSTRAP, len(b)))], axis=1)
    return float(np.median(a) - np.median(b)), float(np.percentile(ra - rb, 2.5)), float(np.percentile(ra - rb, 97.5))


def mean_interval(values, seed: int = 0) -> tuple[float, float, float]:
    """The mean and a bootstrap 95 % interval of it (resampling the values: here, concepts)."""
    values = np.asarray(values, dtype=float)
    means = values[np.random.default_rng(seed).integers(0, len(values), size=(BOOTSTRAP, len(values)))].mean(1)
    return float(values.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def pool_scores(records: list[dict]) -> dict[str, np.ndarray]:
    """Each pool's random units' scores, and the floor: every random unit scored with another's explanation."""
    out = {kind: scores(records, kind) for kind in ("feature", "neuron", "basis", "random")}
    out = {kind: v for kind, v in out.items() if len(v)}
    out["shuffled"] = scores(records, None, field="shuffled_score")
    return out


def verdict(low: float, high: float, ahead: str, behind: str, level: str) -> str:
    """``ahead`` when the whole interval of (first − second) is above 0, ``behind`` when below, else ``level``."""
    return ahead if low > 0 else behind if high < 0 else level
