"""Detection: how well one unit (a neuron or an SAE feature) tells a concept's items from the rest.

A unit's score for an item is its largest activation over the item's tokens. The unit is chosen on the
training items (best ROC AUC) and scored on the held-out items, with a bootstrap 95 % interval. Pools of
different sizes are compared twice: as they are, and matched (the best of N random units from each pool,
the same N, over many draws): a larger pool offers more candidates, so its best unit tends to be better
on held-out items too, from the breadth of the search alone.
"""
from __future__ import annotations

import numpy as np
import torch


def auc(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """ROC AUC of every column of ``scores`` [items, units] at telling ``positive`` items from the rest."""
    return auc_matrix(scores, positive[:, None])[0]


def ranks_along_rows(scores: torch.Tensor) -> torch.Tensor:
    """Ranks (1-based) of each row's entries within that row, ties sharing their mean rank (float32).
    A run of ties is found in one pass over the sorted row (where the value changes), not by searching."""
    ordered, order = scores.sort(dim=1)
    n = scores.shape[1]
    index = torch.arange(n, device=scores.device, dtype=torch.int32).expand_as(ordered)
    starts = torch.ones(ordered.shape, dtype=torch.bool, device=scores.device)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]  # a new value begins a run of ties
    ends = torch.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    first = torch.where(starts, index, 0).cummax(dim=1).values  # where each value's run begins
    last = torch.where(ends, index, n).flip(1).cummin(dim=1).values.flip(1)  # and where it ends
    return torch.empty(scores.shape, device=scores.device).scatter_(1, order, ((first + last + 2) / 2).float())


def ranks(scores: np.ndarray, axis: int = 0) -> np.ndarray:
    """Ranks (1-based) along ``axis`` of a 2-D array, ties sharing their mean rank (``ranks_along_rows``)."""
    scores = np.asarray(scores, dtype=np.float32)
    rows = scores if axis == 1 else scores.T
    out = ranks_along_rows(torch.from_numpy(np.ascontiguousarray(rows))).numpy()
    return out if axis == 1 else out.T


def auc_matrix(scores: np.ndarray, positives: np.ndarray, chunk: int = 2048, device=None) -> np.ndarray:
    """``[concepts, units]``: the AUC of every unit for every concept; ``positives`` is [items, concepts].

    Ranks do not depend on the concept, so each unit's column is ranked once (ties share their mean rank)
    and every concept's Mann-Whitney sum is a matrix product. The ranking runs in torch, on ``device``
    when given: at a GPU build's scale (100,000 items by 35,000 units) it is most of the analysis."""
    positives = np.asarray(positives, dtype=bool)
    n_pos = positives.sum(0).astype(np.float64)
    n_neg = len(positives) - n_pos
    if (n_pos == 0).any() or (n_neg == 0).any():
        raise ValueError("AUC needs positives and negatives for every concept")
    device = device or torch.device("cpu")
    y = torch.from_numpy(positives.astype(np.float64)).to(device)
    chunk = max(1, min(chunk, 2**26 // max(1, len(positives))))  # each chunk's sort stays near 2 GB
    out = np.empty((positives.shape[1], scores.shape[1]), dtype=np.float32)
    for start in range(0, scores.shape[1], chunk):
        block = np.ascontiguousarray(np.asarray(scores[:, start:start + chunk], dtype=np.float32).T)
        ranks = ranks_along_rows(torch.from_numpy(block).to(device))
        sums = (ranks.double() @ y).T.cpu().numpy()
        out[:, start:start + chunk] = (sums - (n_pos * (n_pos + 1) / 2)[:, None]) / (n_pos * n_neg)[:, None]
    return out


def bootstrap_draws(n_items: int, n: int, seed: int) -> np.ndarray:
    """``[n, n_items]``: ``n`` resamples of the items, with replacement. Sharing one set of draws between
    two units makes their bootstrap paired."""
    return np.random.default_rng(seed).integers(0, n_items, size=(n, n_items))


def bootstrap_aucs(scores: np.ndarray, positive: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """One unit's AUC on each resample of ``draws`` (nan where a resample holds one class only).

    A resample only changes how often each item counts, so the items are sorted once: in each run of tied
    scores, the resample's positives and negatives are counted, and its Mann-Whitney U is the sum over runs
    of positives × (negatives in lower runs + half the negatives in the run)."""
    scores = np.asarray(scores, dtype=np.float32)
    p = np.asarray(positive, dtype=bool)
    n_draws, n = draws.shape
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    run_starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.bincount((np.arange(n_draws)[:, None] * n + draws).ravel(), minlength=n_draws * n)
    counts = counts.reshape(n_draws, n)[:, order].astype(np.float64)
    pos = np.add.reduceat(counts * p[order], run_starts, axis=1)
    neg = np.add.reduceat(counts * ~p[order], run_starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    n_pos, n_neg = pos.sum(1), neg.sum(1)
    both = (n_pos > 0) & (n_neg > 0)  # a resample with one class only has no AUC
    u = (pos * (below + 0.5 * neg)).sum(1)
    out = np.full(n_draws, np.nan)
    out[both] = u[both] / (n_pos[both] * n_neg[both])
    return out


def bootstrap_interval(scores: np.ndarray, positive: np.ndarray, n: int = 1000, seed: int = 0):
    """The 2.5th and 97.5th percentiles of one unit's AUC over ``n`` resamples of the items."""
    values = bootstrap_aucs(scores, positive, bootstrap_draws(len(scores), n, seed))
    return float(np.nanpercentile(values, 2.5)), float(np.nanpercentile(values, 97.5))


def best_units(train_auc: np.ndarray, test_auc: np.ndarray, pool: np.ndarray | None = None):
    """For each concept, the unit of ``pool`` (all units if None) with the best training AUC, and that
    unit's held-out AUC: ``(units [concepts], held-out AUC [concepts])``."""
    pool = np.arange(train_auc.shape[1]) if pool is None else np.asarray(pool)
    chosen = pool[np.argmax(train_auc[:, pool], axis=1)]
    return chosen, test_auc[np.arange(len(chosen)), chosen]


def pool_matched(train_auc: np.ndarray, test_auc: np.ndarray, n: int, draws: int, seed: int) -> np.ndarray:
    """``[draws, concepts]``: held-out AUC of the best of ``n`` random units (chosen on training items)."""
    rng = np.random.default_rng(seed)
    return np.stack([best_units(train_auc, test_auc, rng.choice(train_auc.shape[1], n, replace=False))[1]
                     for _ in range(draws)])


def top_share(scores: np.ndarray, about: np.ndarray, share: float = 0.01) -> float:
    """Specificity: the share of the top ``share`` of items by ``scores`` that are about the concept."""
    n = max(1, int(round(share * len(scores))))
    top = np.argsort(-scores, kind="stable")[:n]
    return float(about[top].mean())
