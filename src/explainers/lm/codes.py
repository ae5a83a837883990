"""The SAE's codes for every token, computed once and read by every later stage.

TopK leaves ``k`` nonzero latents per token, so a code is kept as its ``k`` (latent, value) pairs: a GPU
run's millions of tokens times thousands of latents would not fit as a dense matrix.
"""
from __future__ import annotations

import numpy as np
import torch


class SparseCodes:
    def __init__(self, indices: np.ndarray, values: np.ndarray, d_sae: int):
        self.indices = torch.as_tensor(np.asarray(indices, dtype=np.int64))  # [tokens, k]
        self.values = torch.as_tensor(np.asarray(values, dtype=np.float16))  # [tokens, k]
        self.d_sae = d_sae

    def dense(self, rows) -> torch.Tensor:
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        out = torch.zeros((len(rows), self.d_sae))
        return out.scatter_(1, self.indices[rows], self.values[rows].float())

    def column(self, feature: int) -> np.ndarray:
        """One latent's activation at every token."""
        return (self.values.float() * (self.indices == feature)).sum(1).numpy()

    def columns(self, features) -> np.ndarray:
        """Several latents' activations at every token, ``[tokens, len(features)]`` (float32)."""
        lookup = np.full(self.d_sae, -1)
        lookup[np.asarray(features)] = np.arange(len(features))
        slot = lookup[self.indices.numpy()]  # [tokens, k]: the column each stored pair goes to, or -1
        rows, pairs = np.nonzero(slot >= 0)
        out = np.zeros((len(slot), len(features)), dtype=np.float32)
        out[rows, slot[rows, pairs]] = self.values.float().numpy()[rows, pairs]
        return out

    def density(self, rows) -> np.ndarray:
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        fired = self.indices[rows][self.values[rows] > 0]
        return (torch.bincount(fired, minlength=self.d_sae).float() / len(rows)).numpy()

    def l0(self, rows) -> float:
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        return float((self.values[rows] > 0).sum(1).float().mean())

    def item_max(self, item_of: np.ndarray, n_items: int, rows=None) -> np.ndarray:
        """Each latent's largest activation over each item's tokens, ``[n_items, d_sae]`` (float32).
        ``rows`` (optional) are the token rows to read, ``item_of`` their items."""
        rows = torch.arange(len(self.indices)) if rows is None else torch.as_tensor(np.asarray(rows), dtype=torch.long)
        indices, values = self.indices[rows], self.values[rows].float()
        owner = torch.as_tensor(np.asarray(item_of), dtype=torch.long)[:, None].expand_as(indices)
        out = torch.zeros((n_items, self.d_sae))
        out.view(-1).scatter_reduce_(0, (owner * self.d_sae + indices).reshape(-1), values.reshape(-1), reduce="amax")
        return out.numpy()


@torch.no_grad()
def encode(sae, resid: np.ndarray, device, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """``(indices [tokens, k] int16/int32, values [tokens, k] float16)`` for every row of ``resid``."""
    indices, values = [], []
    for start in range(0, len(resid), chunk):
        x = torch.from_numpy(resid[start:start + chunk].astype(np.float32)).to(device)
        top = sae.pre_acts(x).topk(sae.k, dim=-1)
        indices.append(top.indices.cpu().numpy())
        values.append(top.values.half().cpu().numpy())
    kind = np.int16 if sae.W_enc.shape[1] < 2**15 else np.int32
    return np.concatenate(indices).astype(kind), np.concatenate(values)
