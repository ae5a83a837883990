"""The units the chapter compares, and each unit's activations.

- **feature**: the SAE's latents;
- **neuron**: the MLP neurons of every block up to the SAE's layer;
- two controls from the residual stream the SAE reads, each direction read both ways (``u`` and ``-u``),
  since a residual coordinate has no preferred sign:
  - **basis**: the stream's own coordinates;
  - **random**: random directions in it, drawn once from a fixed seed.

A unit's score for an item is its largest activation over the item's kept tokens (sinks left out).
"""
from __future__ import annotations

import numpy as np
import torch

KINDS = ("feature", "neuron", "basis", "random")
KIND_NAMES = {"feature": "SAE features", "neuron": "MLP neurons", "basis": "residual coordinates",
              "random": "random residual directions"}


def residual_directions(width: int, seed: int) -> dict[str, np.ndarray]:
    """``{kind: [width, width]}``: the basis and random unit directions (their negations are added by the
    functions that read them)."""
    random = np.random.default_rng(seed).standard_normal((width, width)).astype(np.float32)
    return {"basis": np.eye(width, dtype=np.float32), "random": random / np.linalg.norm(random, axis=0, keepdims=True)}


@torch.no_grad()
def direction_item_max(resid: np.ndarray, rows: np.ndarray, items: np.ndarray, n_items: int,
                       directions: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """``[n_items, 2 × directions]``: each direction's largest projection over each item's ``rows`` (``items``
    gives each row's item), then its negation's. An item with no row gets 0."""
    d = torch.from_numpy(directions)
    high = torch.full((n_items, d.shape[1]), float("-inf"))
    low = torch.full((n_items, d.shape[1]), float("inf"))
    for start in range(0, len(rows), chunk):
        projection = torch.from_numpy(resid[rows[start:start + chunk]].astype(np.float32)) @ d
        owner = torch.from_numpy(items[start:start + chunk].astype(np.int64))[:, None].expand_as(projection)
        high.scatter_reduce_(0, owner, projection, reduce="amax")
        low.scatter_reduce_(0, owner, projection, reduce="amin")
    out = torch.cat([high, -low], dim=1)
    out[torch.isinf(out)] = 0.0
    return out.numpy()


def direction_values(resid: np.ndarray, rows: np.ndarray, directions: np.ndarray, units: np.ndarray,
                     chunk: int = 16384) -> np.ndarray:
    """``[len(rows), len(units)]``: the projection at every token of ``rows`` on each unit (a unit ``u`` below
    the number of directions reads direction ``u``; above, the negation of direction ``u - width``)."""
    width = directions.shape[1]
    signed = np.where(units < width, 1.0, -1.0).astype(np.float32)
    chosen = directions[:, units % width] * signed
    out = np.empty((len(rows), len(units)), dtype=np.float32)
    for start in range(0, len(rows), chunk):
        out[start:start + chunk] = resid[rows[start:start + chunk]].astype(np.float32) @ chosen
    return out


def item_max_pools(run, directions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{kind: [detection items, units]}``: the four pools' item scores (float32), in the order of the
    store's ``detection_items``."""
    acts = run.acts
    detection_items = acts["detection_items"]
    keep = np.flatnonzero(run.keep)
    item_of = acts["item"][keep]
    pools = {"feature": run.codes.item_max(item_of, run.n_items, rows=keep)[detection_items],
             "neuron": acts["neuron_max"]}  # float16: converted chunk by chunk where read
    detected = np.zeros(run.n_items, bool)
    detected[detection_items] = True
    rows = keep[detected[item_of]]  # only the tokens of items a detection test reads
    for kind, d in directions.items():
        pools[kind] = direction_item_max(acts["resid"], rows, acts["item"][rows], run.n_items, d)[detection_items]
    return pools
