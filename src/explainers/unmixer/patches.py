"""From a drawing to the data the dictionary learns: blurred 8×8 patches, mean removed, flat ones dropped.

The same steps, in the same order and with the same constants, run in the reader's browser
(``dictionary.js``: ``DictionaryTrainer.extractPatches``); tests check that both give the same patches.

1. Blur with the binomial kernel [1, 4, 6, 4, 1] / 16 along rows, then columns, repeating the border
   pixel outside the canvas (so a completely filled canvas stays flat instead of growing edges).
2. Cut 8×8 patches every ``stride`` pixels; subtract each patch's own mean (brightness is not a shape).
3. Drop flat patches (standard deviation below ``FLAT_STD``): paper and solid ink hold no edge.
4. Divide every patch by one number, the root mean square pixel over the kept patches, so a pixel has
   unit variance on average and the sparsity strength means the same for faint and bold drawings.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PATCH = 8
SIZE = 128
KERNEL = np.array([1, 4, 6, 4, 1], np.float32) / 16  # exact in float32: no exp() to disagree about
FLAT_STD = 0.04  # ink units; a blurred pen edge has a standard deviation of about 0.3 in its patch
MIN_PATCHES = 256  # one batch: below this a drawing is a dot, not a picture with edges
FILLED_INK = 0.5  # with no edges, a canvas whose mean ink is above this is "filled", else "empty"


@dataclass
class PatchSet:
    """The training data cut from one drawing."""

    patches: np.ndarray  # (N, 64) float32: mean removed, divided by ``scale``
    positions: np.ndarray  # (N, 2) int32: (row, col) of each patch's top-left pixel
    means: np.ndarray  # (N,) float32: the mean removed from each patch, in ink units
    scale: float  # ink units per patch unit
    blurred: np.ndarray  # (128, 128) float32: the blurred drawing the patches were cut from
    status: str  # "ok", "empty", "filled" or "too-little"


def _sequential_sum(values: np.ndarray, axis: int) -> np.ndarray:
    """Sum in index order (numpy's sum pairs terms up, which rounds differently from a JS loop)."""
    return np.take(np.cumsum(values, axis=axis), -1, axis=axis)


def blur(drawing: np.ndarray) -> np.ndarray:
    """The drawing blurred by the separable binomial kernel, border pixels repeated."""
    image = np.asarray(drawing, np.float32)
    for axis in (1, 0):
        padded = np.pad(image, [(2, 2) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        out = np.zeros_like(image)
        for k, w in enumerate(KERNEL):  # summed left to right, as the JS loop does
            window = padded[:, k:k + SIZE] if axis == 1 else padded[k:k + SIZE, :]
            out = out + w * window
        image = out
    return image


def all_patches(image: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Every 8×8 patch whose top-left corner is on the stride grid: (M, 64) and their (row, col)."""
    starts = np.arange(0, SIZE - PATCH + 1, stride)
    rows, cols = np.meshgrid(starts, starts, indexing="ij")
    positions = np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.int32)
    offsets = np.arange(PATCH)
    index_r = positions[:, 0, None, None] + offsets[None, :, None]
    index_c = positions[:, 1, None, None] + offsets[None, None, :]
    return image[index_r, index_c].reshape(len(positions), PATCH * PATCH), positions


def extract_patches(drawing: np.ndarray, stride: int = 2) -> PatchSet:
    """Cut the training patches from a (128, 128) drawing of ink in [0, 1]."""
    drawing = np.asarray(drawing, np.float32)
    if drawing.shape != (SIZE, SIZE):
        raise ValueError(f"a drawing is {SIZE}×{SIZE}, got {drawing.shape}")
    blurred = blur(drawing)
    raw, positions = all_patches(blurred, stride)
    # float64 statistics summed left to right (cumsum), as the JS loops add them: bit-identical
    means = _sequential_sum(raw.astype(np.float64), axis=1) / raw.shape[1]
    centred = raw - means[:, None].astype(np.float32)
    std = np.sqrt(_sequential_sum(centred.astype(np.float64) ** 2, axis=1) / raw.shape[1])
    keep = std >= FLAT_STD
    centred, positions, means = centred[keep], positions[keep], means[keep]
    if len(centred) == 0:
        status = "filled" if drawing.mean() > FILLED_INK else "empty"
    else:
        status = "ok" if len(centred) >= MIN_PATCHES else "too-little"
    squares = (centred.astype(np.float64) ** 2).ravel()
    scale = float(np.sqrt(_sequential_sum(squares, axis=0) / squares.size)) if len(centred) else 1.0
    return PatchSet(
        patches=(centred / np.float32(scale)).astype(np.float32),
        positions=positions,
        means=means.astype(np.float32),
        scale=scale,
        blurred=blurred,
        status=status,
    )


def tiles(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 16×16 non-overlapping 8×8 tiles of an image, mean removed: (256, 64), their means, and
    which of them have edges (are not flat). The drawing is rebuilt tile by tile from the dictionary.
    """
    raw, _ = all_patches(np.asarray(image, np.float32), PATCH)
    means = _sequential_sum(raw.astype(np.float64), axis=1) / raw.shape[1]
    values = raw - means[:, None].astype(np.float32)
    std = np.sqrt(_sequential_sum(values.astype(np.float64) ** 2, axis=1) / raw.shape[1])
    return values, means.astype(np.float32), std >= FLAT_STD


def untile(tile_values: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Inverse of ``tiles``: put 256 (64,) tiles plus their means back into a 128×128 image."""
    n = SIZE // PATCH
    blocks = (tile_values + means[:, None]).reshape(n, n, PATCH, PATCH)
    return blocks.transpose(0, 2, 1, 3).reshape(SIZE, SIZE).astype(np.float32)
