"""A sparse dictionary (a one-layer sparse autoencoder) learned on the 8×8 patches of a drawing.

    f    = ReLU(W_enc (x - b_dec) + b_enc)      which atoms a patch uses, and how much
    x̂    = W_decᵀ f + b_dec                      the patch rebuilt from those atoms (d_i = row i of W_dec)
    loss = mean (x̂ - x)² + λ · Σ_i f_i ‖d_i‖   reconstruction (per pixel) + the price of the atoms used

The same algorithm runs in the reader's browser (``dictionary.js``). Both draw their initial atoms and
their batches from the same small generator (mulberry32), so from one seed the two engines start from
identical weights and see identical batches. Their arithmetic differs only in rounding: torch computes in
float32 and adds up matrix products in its BLAS's blocked order; the JS adds in float64, in index order,
and stores weights and Adam's moments in float32. After one step the atoms differ by float32 rounding
(~1e-8). Training amplifies that: a code near zero switches an atom on in one engine and off in the
other, and Adam rescales small gradients to full-size steps. Measured on random-stroke drawings (torch
2.13 on CPU against Node 20's V8, November 2026): ~1e-7 after 20 steps, 1e-5 to 1e-3 after 50, a few
thousandths after 100, and after the widget's 500 steps single atoms can differ outright (cosine down to
0.53 with their twin in 30 drawings). Both engines in float64 only delays this (1e-16 after
10 steps, still 0.01 after 500): any difference in the order of additions grows the same way, and only
bit-identical arithmetic, which no two BLAS libraries (nor a GPU) give, would keep the twins equal.
What holds over the full run is what the reader reads: explained variance, error, L0 and the dead
count agree within the bounds ``tests/test_dictionary.py`` states (``FULL_RUN``).
"""
from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick, torch_threads
from ..sae_measures import dead_fraction, explained_variance, feature_density, l0
from ..timeline import Timeline
from .config import SPARSITY_GRID, DictionaryConfig
from .drawings import drawing as builtin_drawing
from .patches import PatchSet, extract_patches, tiles, untile

# --- the shared generator ------------------------------------------------------------------------

def mulberry32(seed: int, start: int, count: int) -> np.ndarray:
    """Draws ``start .. start+count-1`` of mulberry32(seed) as floats in [0, 1), exactly as the JS does.

    mulberry32's state just adds a constant each draw, so any stretch of the stream can be computed
    at once: uint32 arithmetic wraps around like JavaScript's ``Math.imul`` and ``| 0``.
    """
    k = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    t = ((np.uint64(seed & 0xFFFFFFFF) + k * np.uint64(0x6D2B79F5)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    with np.errstate(over="ignore"):
        t = (t ^ (t >> np.uint32(15))) * (t | np.uint32(1))
        t ^= t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))
        t = t ^ (t >> np.uint32(14))
    return t.astype(np.float64) / 4294967296.0


def initial_atoms(n_atoms: int, dim: int, seed: int, init_norm: float) -> np.ndarray:
    """(n_atoms, dim) float32: uniform noise in [-1, 1), each atom scaled to length ``init_norm``."""
    atoms = mulberry32(seed, 0, n_atoms * dim).reshape(n_atoms, dim) * 2 - 1
    squares = np.zeros(n_atoms)
    for j in range(dim):  # summed in the JS's order, so the float64 norms are bit-identical
        squares = squares + atoms[:, j] * atoms[:, j]
    return (atoms * (init_norm / np.sqrt(squares))[:, None]).astype(np.float32)


def batch_indices(seed: int, n_atoms: int, dim: int, n_patches: int, steps: int, batch_size: int):
    """(steps, batch_size) patch indices, drawn with replacement after the draws used by the init."""
    u = mulberry32(seed, n_atoms * dim, steps * batch_size).reshape(steps, batch_size)
    return np.floor(u * n_patches).astype(np.int64)


# --- the model and its measures ------------------------------------------------------------------

class SparseDictionary(torch.nn.Module):
    """The sparse autoencoder; ``w_dec`` rows are the atoms, ``w_enc`` rows the atoms' detectors."""

    def __init__(self, atoms: np.ndarray):
        super().__init__()
        atoms = torch.as_tensor(atoms, dtype=torch.float32)
        n_atoms, dim = atoms.shape
        self.w_dec = torch.nn.Parameter(atoms.clone())
        self.w_enc = torch.nn.Parameter(atoms.clone())  # the encoder starts as the decoder transposed
        self.b_enc = torch.nn.Parameter(torch.zeros(n_atoms))
        self.b_dec = torch.nn.Parameter(torch.zeros(dim))

    def encode(self, x):
        return torch.relu((x - self.b_dec) @ self.w_enc.T + self.b_enc)

    def forward(self, x, sparsity: float):
        f = self.encode(x)
        x_hat = f @ self.w_dec + self.b_dec
        mse = ((x_hat - x) ** 2).mean()
        l1 = (f * self.w_dec.norm(dim=1)).sum(dim=1).mean()
        return mse + sparsity * l1, mse, f, x_hat


@torch.no_grad()
def evaluate(model: SparseDictionary, patches: torch.Tensor, sparsity: float) -> dict:
    """The field's standard measures over every patch of the drawing (not just one batch)."""
    loss, mse, f, x_hat = model(patches, sparsity)
    frequency = feature_density(f)
    return {
        "loss": loss.item(),
        "mse": mse.item(),
        "explained_variance": float(explained_variance(patches, x_hat)),
        "l0": float(l0(f)),
        "dead": round(float(dead_fraction(frequency)) * len(frequency)),
        "firing_frequency": frequency.cpu().numpy(),
    }


def edge_likeness(atoms: np.ndarray) -> np.ndarray:
    """How much an atom looks like an edge or a line: per atom, the largest share of its variance that a
    profile across one direction explains (16 directions tried). Noise scores about 0.25, a blend of
    several strokes about 0.5-0.6, a clean edge or line above 0.9.
    """
    a = np.asarray(atoms, np.float64).reshape(len(atoms), -1)
    a = a - a.mean(axis=1, keepdims=True)
    side = int(np.sqrt(a.shape[1]))
    yy, xx = np.mgrid[0:side, 0:side] - (side - 1) / 2
    best = np.zeros(len(a))
    for angle in np.arange(16) * np.pi / 16:
        across = (xx * np.cos(angle) + yy * np.sin(angle)).ravel()
        bins = np.floor(across - across.min()).astype(int)  # one-pixel-wide bands across the direction
        onehot = np.eye(bins.max() + 1)[bins]
        profile = (a @ onehot) / onehot.sum(axis=0)
        residual = ((a - profile @ onehot.T) ** 2).sum(axis=1)
        best = np.maximum(best, 1 - residual / np.maximum((a ** 2).sum(axis=1), 1e-12))
    return best.astype(np.float32)


# --- storage: what the Timeline keeps -------------------------------------------------------------

def quantise_atoms(atoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Atoms as display-ready bytes: each scaled to its own peak |value|, 0 -> 127.5, ±peak -> 0 / 255.

    Returns (uint8 atoms, float32 peaks); atom ≈ (byte - 127.5) / 127.5 · peak (error < 0.4% of the
    peak). A quarter of float32's bytes, and Bokeh ships uint8 as a binary buffer (it has no float16).
    """
    atoms = np.asarray(atoms, np.float32)
    peak = np.maximum(np.abs(atoms).max(axis=-1), 1e-12).astype(np.float32)
    scaled = 127.5 + 127.5 * atoms / peak[..., None]
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8), peak


def dequantise_atoms(atoms: np.ndarray, peak: np.ndarray) -> np.ndarray:
    """Inverse of ``quantise_atoms``, to float32."""
    return ((np.asarray(atoms, np.float32) - 127.5) / 127.5 * peak[..., None]).astype(np.float32)


def ink_bytes(image: np.ndarray) -> np.ndarray:
    """An ink image (0 = paper, 1 = ink) as bytes 0-255, clipped: what a picture of it can show."""
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


# --- training ------------------------------------------------------------------------------------

@torch.no_grad()
def reconstruct_drawing(model: SparseDictionary, data: PatchSet) -> np.ndarray:
    """The blurred drawing rebuilt tile by tile; flat tiles, which the dictionary never saw, keep their mean."""
    values, means, edged = tiles(data.blurred)
    device = model.w_dec.device
    x = torch.as_tensor(values[edged] / np.float32(data.scale), device=device)
    _, _, _, x_hat = model(x, 0.0)
    rebuilt = np.zeros_like(values)
    rebuilt[edged] = x_hat.cpu().numpy() * np.float32(data.scale)
    return untile(rebuilt, means)


def train_on_drawing(ink: np.ndarray, config: DictionaryConfig, device=None,
                     atoms: np.ndarray | None = None, indices: np.ndarray | None = None) -> Timeline:
    """Train on any (128, 128) drawing. ``atoms`` and ``indices`` override the seeded init and batches."""
    device = torch.device(device) if device is not None else pick()
    with torch_threads(1):
        return _train(ink, config, device, atoms, indices)


def _train(ink, config, device, atoms, indices) -> Timeline:
    data = extract_patches(ink, config.stride)
    if data.status != "ok":
        raise ValueError(f"cannot learn a dictionary from this drawing: {data.status} "
                         f"({len(data.patches)} patches with edges)")
    dim = data.patches.shape[1]
    if atoms is None:
        atoms = initial_atoms(config.n_atoms, dim, config.seed, config.init_norm)
    if indices is None:
        indices = batch_indices(config.seed, config.n_atoms, dim, len(data.patches), config.steps,
                                config.batch_size)
    model = SparseDictionary(atoms).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    patches = torch.as_tensor(data.patches, device=device)
    batches = torch.as_tensor(indices, device=device)

    frames: dict[str, list] = {k: [] for k in ("step", "atoms", "atom_peak", "atom_norm",
                                                "firing_frequency", "loss", "mse", "explained_variance",
                                                "l0", "dead", "edge_likeness")}

    def checkpoint(step):
        stats = evaluate(model, patches, config.sparsity)
        frames["step"].append(step)
        atoms = model.w_dec.detach().cpu().numpy()
        quantised, peak = quantise_atoms(atoms)
        frames["atoms"].append(quantised)
        frames["atom_peak"].append(peak)
        frames["edge_likeness"].append(edge_likeness(atoms))
        frames["atom_norm"].append(model.w_dec.detach().norm(dim=1).cpu().numpy())
        for key in ("firing_frequency", "loss", "mse", "explained_variance", "l0", "dead"):
            frames[key].append(stats[key])

    train_loss = []  # kept on the device: reading each value would sync a GPU every step
    checkpoint(0)
    started = time.perf_counter()
    train_seconds = 0.0
    for step in range(config.steps):
        loss, _, _, _ = model(patches[batches[step]], config.sparsity)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        train_loss.append(loss.detach())
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
            train_seconds += time.perf_counter() - started
            checkpoint(step + 1)
            started = time.perf_counter()
    train_seconds += time.perf_counter() - started

    return Timeline(
        frames={
            "step": np.array(frames["step"], np.int32),
            "atoms": np.stack(frames["atoms"]),
            "atom_peak": np.stack(frames["atom_peak"]),
            "atom_norm": np.stack(frames["atom_norm"]).astype(np.float32),
            "firing_frequency": np.stack(frames["firing_frequency"]).astype(np.float32),
            "loss": np.array(frames["loss"], np.float32),
            "mse": np.array(frames["mse"], np.float32),
            "explained_variance": np.array(frames["explained_variance"], np.float32),
            "l0": np.array(frames["l0"], np.float32),
            "dead": np.array(frames["dead"], np.int32),
            "edge_likeness": np.stack(frames["edge_likeness"]).astype(np.float32),
        },
        fixed={
            "drawing": ink_bytes(ink),
            "blurred": ink_bytes(data.blurred),
            "reconstruction": ink_bytes(reconstruct_drawing(model, data)),
            "train_loss": torch.stack(train_loss).cpu().numpy(),
            "final_atoms": model.w_dec.detach().cpu().numpy(),
        },
        meta={
            "config": asdict(config),
            "engine": "torch",
            "device": describe(device),
            "n_patches": int(len(data.patches)),
            "patch_scale": data.scale,
            "train_s": round(train_seconds, 4),
            "steps_per_s": round(config.steps / max(train_seconds, 1e-9), 1),
        },
    )


@cached
def train_dictionary(config: DictionaryConfig) -> Timeline:
    """Train the dictionary on a built-in drawing; cached, so a rebuild retrains nothing."""
    return train_on_drawing(builtin_drawing(config.drawing), config)


def sparsity_sweep(sparsities=SPARSITY_GRID, **config) -> list[Timeline]:
    """One run per sparsity strength, everything else equal: the runs behind the chapter's λ control."""
    return [train_dictionary(DictionaryConfig(sparsity=float(s), **config)) for s in sparsities]


def tiny_config() -> DictionaryConfig:
    """20 steps, for tests."""
    return DictionaryConfig(steps=20, checkpoint_every=10)

