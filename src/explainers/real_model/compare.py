"""Detection of WordNet concepts by single units, pool against pool, with paired statistics.

Every unit is chosen on training items and scored on held-out items. Two pools are compared on the same
resamples of the held-out items (a paired bootstrap), per concept and over concepts (concepts resampled
too), and, matched for size, over many draws of N units from each pool.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lm.detection import auc_matrix, best_units, bootstrap_aucs, bootstrap_draws, pool_matched, top_share

BOOTSTRAP = 1000
MATCHED_N = 1024  # pool-matched comparison: the best of this many random units from each pool
MATCHED_DRAWS = 50
TOP_SHARE = 0.01  # specificity: the top 1 % of held-out items by activation


@dataclass
class Problem:
    """The WordNet detection task: which items are about which concept, and which are held out."""
    concepts: list[str]
    y: np.ndarray  # [items, concepts] bool
    train: np.ndarray  # [items] bool
    test: np.ndarray  # [items] bool


def interval(values) -> list[float]:
    values = np.asarray(values, dtype=float)
    return [float(np.nanpercentile(values, 2.5)), float(np.nanpercentile(values, 97.5))]


def over_concepts(replicates: np.ndarray, seed: int) -> np.ndarray:
    """``replicates`` is [draws, concepts]; each draw resamples the concepts too and averages: [draws]."""
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, replicates.shape[1], size=replicates.shape)
    return np.take_along_axis(replicates, picked, axis=1).mean(1)


def detection(pools: dict, problem: Problem, device, seed: int = 0) -> dict:
    """Each pool's best unit per concept, its held-out AUC with a bootstrap interval, and the paired
    differences of the features against every other pool."""
    y, tr, te = problem.y, problem.train, problem.test
    aucs = {kind: (auc_matrix(s[tr], y[tr], device=device), auc_matrix(s[te], y[te], device=device))
            for kind, s in pools.items()}
    chosen = {kind: best_units(*pair)[0] for kind, pair in aucs.items()}
    n_test = int(te.sum())
    replicates = {kind: np.empty((BOOTSTRAP, len(problem.concepts))) for kind in pools}
    records = []
    for j, concept in enumerate(problem.concepts):
        draws = bootstrap_draws(n_test, BOOTSTRAP, seed + j)  # shared by every pool: a paired bootstrap
        for kind, scores in pools.items():
            unit = int(chosen[kind][j])
            replicates[kind][:, j] = bootstrap_aucs(np.asarray(scores[:, unit][te], np.float32), y[te, j], draws)
            low, high = interval(replicates[kind][:, j])
            records.append({"concept": concept, "kind": kind, "unit": unit, "train_auc": float(aucs[kind][0][j, unit]),
                            "auc": float(aucs[kind][1][j, unit]), "low": low, "high": high})
    held = {kind: np.array([aucs[kind][1][j, chosen[kind][j]] for j in range(len(problem.concepts))]) for kind in pools}
    paired = {kind: paired_difference(held["feature"] - held[kind], replicates["feature"] - replicates[kind], seed)
              for kind in pools if kind != "feature"}
    return {"records": records, "chosen": chosen, "aucs": aucs, "paired": paired}


def paired_difference(difference: np.ndarray, replicates: np.ndarray, seed: int) -> dict:
    """Features minus another pool: per concept with its item-bootstrap interval, and the mean over
    concepts with an interval over concepts and items."""
    return {"per_concept": difference.tolist(),
            "per_concept_interval": [interval(replicates[:, j]) for j in range(replicates.shape[1])],
            "mean": float(difference.mean()), "interval": interval(over_concepts(replicates, seed)),
            "wins": int((difference > 0).sum()), "losses": int((difference < 0).sum())}


def matched(aucs: dict, seed: int) -> dict:
    """Each pool's best-of-N held-out AUC over draws ([draws, concepts]), N the same for every pool, and
    features against every other pool: the share of draws won and the mean difference with an interval
    over concepts."""
    n = min(MATCHED_N, *(train.shape[1] for train, _ in aucs.values()))
    draws = {kind: pool_matched(train, test, n, MATCHED_DRAWS, seed) for kind, (train, test) in aucs.items()}
    out = {"n": n, "draws": MATCHED_DRAWS,
           "pools": {kind: {"per_draw_mean": d.mean(1).tolist(), "per_concept_mean": d.mean(0).tolist()}
                     for kind, d in draws.items()}, "against": {}}
    for kind, d in draws.items():
        if kind == "feature":
            continue
        per_concept = (draws["feature"] - d).mean(0)
        resampled = np.random.default_rng(seed).integers(0, len(per_concept), size=(BOOTSTRAP, len(per_concept)))
        out["against"][kind] = {"mean": float(per_concept.mean()),
                                "interval": interval(per_concept[resampled].mean(1)),
                                "draws_won": float(np.mean(draws["feature"].mean(1) > d.mean(1)))}
    return out


def specificity(pools: dict, problem: Problem, chosen: dict, about: np.ndarray) -> list[dict]:
    """Of each chosen unit's top 1 % of held-out items, the share about its concept (``about`` [items,
    concepts]: labelled, or naming one of the concept's words)."""
    te = problem.test
    out = []
    for j, concept in enumerate(problem.concepts):
        for kind in ("feature", "neuron"):
            unit = int(chosen[kind][j])
            scores = np.asarray(pools[kind][:, unit][te], np.float32)
            out.append({"concept": concept, "kind": kind, "unit": unit,
                        "share": top_share(scores, about[te, j], TOP_SHARE),
                        "labelled_share": top_share(scores, problem.y[te, j], TOP_SHARE),
                        "top_items": max(1, int(round(TOP_SHARE * te.sum()))),
                        "base_rate": float(about[te, j].mean())})
    return out
