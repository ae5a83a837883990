"""What we read off a trained toy model's W: feature norms, interference, angles, and the phase of a
two-feature model. numpy only, so charts and facts can use it without torch."""
from __future__ import annotations

import numpy as np


# A feature counts as represented when its column's norm ‖W_i‖ is above this (trained columns end near 1 or
# near 0). The runs' configs take it as their default and record it; charts and facts read it from there.
REPRESENTED_NORM = 0.5


def feature_norms(W: np.ndarray) -> np.ndarray:
    """‖W_i‖ for every feature: (..., m, n) -> (..., n). Near 1: represented; near 0: dropped."""
    return np.linalg.norm(W, axis=-2)


def superposition(W: np.ndarray) -> np.ndarray:
    """Σ_{j≠i} (Ŵ_i · W_j)²: how much of other features' directions lies along feature i's.

    0 when feature i has a dimension to itself; the paper's measure of interference. (..., m, n) -> (..., n).
    """
    unit = W / np.maximum(feature_norms(W)[..., None, :], 1e-6)
    overlap = np.einsum("...mi,...mj->...ij", unit, W) ** 2
    return overlap.sum(-1) - np.diagonal(overlap, axis1=-2, axis2=-1)


def neighbour_angles(columns: np.ndarray) -> np.ndarray:
    """Angles (degrees) between angularly neighbouring 2-D directions, going round the circle.

    columns: (n, 2). A regular pentagon gives five angles of 72°; they always sum to 360°.
    """
    angles = np.sort(np.degrees(np.arctan2(columns[:, 1], columns[:, 0])) % 360)
    return np.diff(np.append(angles, angles[0] + 360))


NOT_REPRESENTED, DEDICATED, SUPERPOSITION, OTHER = 0, 1, 2, 3
PHASE_NAMES = ["extra feature not represented", "extra feature gets the dimension (dedicated)",
               "both stored antipodally (superposition)", "other"]


def classify_phase(w: np.ndarray, threshold: float) -> np.ndarray:
    """Phase of an n=2, m=1 model from W = (w_1, w_2), the extra feature being feature 2.

    Only w_1 large: the extra feature is not represented. Only w_2 large: it has the dimension to itself.
    "Large" is above ``threshold`` (the run's ``represented_norm``).
    Both large with opposite signs: both share the dimension antipodally (superposition). Anything else
    (neither, or both with the same sign, which cannot be read back apart) is "other".
    w: (..., 2) -> (...,) int8.
    """
    w = np.asarray(w, dtype=np.float64)
    first, extra = np.abs(w[..., 0]) > threshold, np.abs(w[..., 1]) > threshold
    phase = np.full(w.shape[:-1], OTHER, dtype=np.int8)
    phase[first & ~extra] = NOT_REPRESENTED
    phase[~first & extra] = DEDICATED
    phase[first & extra & (w[..., 0] * w[..., 1] < 0)] = SUPERPOSITION
    return phase
