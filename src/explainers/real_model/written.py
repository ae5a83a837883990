"""The written second test: which sense of "apple", the Golden Gate Bridge, dogs and cats; the neuron that
responds to two unrelated written concepts, tested against control sentences for what the two might share;
and the feature cards."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..lm import corpus
from ..lm.detection import auc, bootstrap_interval, ranks

CONTROLS_FILE = Path(__file__).resolve().parent / "data" / "controls.json"
SNIPPETS = 5
WINDOW = (10, 4)  # tokens shown before and after a snippet's peak


def controls() -> dict:
    """The control sentences (``groups``) and which groups are related to which concept (``related``)."""
    return json.loads(CONTROLS_FILE.read_text())


def related(a: str, b: str, table: dict) -> bool:
    """Two written concepts are related when they share a family (two senses of "apple", two pets) or a
    control group (the Golden Gate Bridge and Apple, the company, are both of the Bay Area)."""
    return (corpus.FAMILIES.get(a, a) == corpus.FAMILIES.get(b, b)
            or bool(set(table.get(a, ())) & set(table.get(b, ()))))


def written_test(scores: dict, labels: np.ndarray, test: np.ndarray) -> dict:
    """The hand-labelled cases: which sense of "apple" (among the apple sentences alone), and the Golden
    Gate Bridge against every other written topic; best unit of each kind, chosen on training sentences."""
    out = {}
    apple = np.isin(labels, ["apple_fruit", "apple_company"])
    cases = {"apple_fruit": apple, "apple_company": apple, "golden_gate": np.ones(len(labels), bool)}
    for concept, among in cases.items():
        for kind, s in scores.items():
            tr, te = among & ~test, among & test
            train_auc = auc(s[tr], labels[tr] == concept)
            unit = int(np.argmax(train_auc))
            out[f"{concept}_{kind}"] = {"unit": unit, "train_auc": float(train_auc[unit]),
                                        "auc": float(auc(s[te][:, [unit]], labels[te] == concept)[0]),
                                        "held_out": int((labels[te] == concept).sum())}
    return out


def pet_features(scores: np.ndarray, labels: np.ndarray, n: int = 5) -> dict:
    """For dogs and for cats, the features whose sentence scores correlate most with the label."""
    out = {}
    for concept in ("dog", "cat"):
        y = (labels == concept).astype(np.float64)
        centred = scores - scores.mean(0)
        corr = (centred * (y - y.mean())[:, None]).sum(0) / (
            np.sqrt((centred ** 2).sum(0) * ((y - y.mean()) ** 2).sum()) + 1e-12)
        top = np.argsort(-corr)[:n]
        out[concept] = {"features": [int(i) for i in top], "correlation": [float(corr[i]) for i in top]}
    return out


def pairwise_u(scores: np.ndarray, labels: np.ndarray, names: list[str], rows=None) -> np.ndarray:
    """``U[a, c, unit]``: the Mann-Whitney count of (a-item, c-item) pairs that the unit orders a > c.
    With ``rows`` (a flag per name), only pairs with at least one flagged name are counted."""
    groups = [np.flatnonzero(labels == n) for n in names]
    u = np.zeros((len(names), len(names), scores.shape[1]), dtype=np.float32)
    for i, a in enumerate(groups):
        for j, c in enumerate(groups):
            if j <= i or (rows is not None and not (rows[i] or rows[j])):
                continue
            both = np.concatenate([a, c])
            ranked = ranks(scores[both], axis=0).astype(np.float64)
            u_ac = ranked[: len(a)].sum(0) - len(a) * (len(a) + 1) / 2
            u[i, j] = u_ac
            u[j, i] = len(a) * len(c) - u_ac
    return u


def polysemantic_neuron(scores: np.ndarray, labels: np.ndarray, names: list[str], allowed) -> dict:
    """The neuron and pair of focus concepts (a, b), among the pairs ``allowed(a, b)`` admits, maximising
    min(AUC of a vs the rest without b, AUC of b vs the rest without a): a neuron that picks out both, and
    little else."""
    u = pairwise_u(scores, labels, names, rows=[n in corpus.FOCUS for n in names])
    counts = np.array([np.sum(labels == n) for n in names], dtype=np.float64)
    best = (-1.0, None, None, None)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if j <= i or a not in corpus.FOCUS or b not in corpus.FOCUS or not allowed(a, b):
                continue
            others = [c for c in range(len(names)) if c not in (i, j)]
            auc_a = u[i, others].sum(0) / (counts[i] * counts[others].sum())
            auc_b = u[j, others].sum(0) / (counts[j] * counts[others].sum())
            score = np.minimum(auc_a, auc_b)
            unit = int(np.argmax(score))
            if score[unit] > best[0]:
                best = (float(score[unit]), unit, (a, b), {a: float(auc_a[unit]), b: float(auc_b[unit])})
    return {"score": best[0], "unit": best[1], "concepts": list(best[2]), "aucs": best[3]}


def held_out_aucs(scores: np.ndarray, labels: np.ndarray, test: np.ndarray, pair) -> dict:
    """Each concept of the pair against every other held-out written sentence but the pair's other one."""
    a, b = pair
    out = {}
    for concept in (a, b):
        mask = test & ~np.isin(labels, [x for x in (a, b) if x != concept])
        out[concept] = float(auc(scores[mask][:, None], labels[mask] == concept)[0])
    return out


def control_test(unit_scores: np.ndarray, labels: np.ndarray, test: np.ndarray, control_scores: dict,
                 concepts, table: dict) -> list[dict]:
    """How one unit responds to each control group related to ``concepts``: the group's AUC against the
    held-out written sentences of topics outside the focus concepts (95 % bootstrap interval), beside the
    same AUC for each concept's own held-out sentences."""
    background = test & ~np.isin(labels, corpus.FOCUS)
    rows = []
    groups = list(dict.fromkeys(g for c in concepts for g in table["related"].get(c, ())))
    for name, values, size in ([(c, unit_scores[test & (labels == c)], None) for c in concepts]
                               + [(g, control_scores[g], len(control_scores[g])) for g in groups]):
        x = np.concatenate([values, unit_scores[background]]).astype(np.float32)
        y = np.r_[np.ones(len(values), bool), np.zeros(int(background.sum()), bool)]
        low, high = bootstrap_interval(x, y, 1000, seed=len(rows))
        rows.append({"name": name, "control": size is not None, "n": int(len(values)),
                     "auc": float(auc(x[:, None], y)[0]), "low": low, "high": high,
                     "description": table["groups"][name]["description"] if size is not None else None})
    return rows


def feature_card(feature: int, why: str, codes, item_of: np.ndarray, strings: np.ndarray, density) -> dict:
    values = codes.column(feature)
    order = np.argsort(-values)
    snippets, used = [], set()
    for row in order:
        if values[row] <= 0 or len(snippets) == SNIPPETS:
            break
        if item_of[row] in used:
            continue
        used.add(item_of[row])
        rows = np.flatnonzero(item_of == item_of[row])
        peak = int(np.flatnonzero(rows == row)[0])
        window = rows[max(0, peak - WINDOW[0]): peak + WINDOW[1] + 1]
        snippets.append({"tokens": list(strings[window]), "values": [round(float(v), 3) for v in values[window]]})
    fired = values[values > 0]
    counts, edges = np.histogram(fired, bins=20) if len(fired) else (np.zeros(20), np.linspace(0, 1, 21))
    return {"feature": int(feature), "why": why, "density": float(density[feature]), "fires_on": int(len(fired)),
            "max": float(values.max()), "histogram": counts.astype(int).tolist(), "edges": [float(e) for e in edges],
            "snippets": snippets}
