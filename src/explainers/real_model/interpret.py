"""Automated interpretation of units: explain each from its strongest training items, score the
explanation on held-out items (``lm.explain``), and measure the method's floor by scoring every unit with
another unit's explanation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lm import explain
from ..progress import bar


@dataclass
class Text:
    """The detection items' tokens as the explainer reads them."""
    words: np.ndarray  # [rows]: each token's word ("" for none)
    starts: np.ndarray  # [items]: each item's first row
    train: np.ndarray  # [items] bool
    test: np.ndarray  # [items] bool
    silent: np.ndarray  # [rows] bool: attention sinks, which count as silence
    lexicon: explain.Lexicon


def interpret(kind: str, units: list[tuple[int, str]], values: np.ndarray, text: Text,
              maxima: dict | None = None) -> list[dict]:
    """One record per unit (``(unit, why)``; ``values`` [rows, units]); ``maxima`` may give a unit's item
    maxima where its token values cover only some items."""
    out, explained = [], []
    for column, (unit, why) in enumerate(bar(units, desc=f"explaining {kind}s")):
        v = np.where(text.silent, 0.0, values[:, column]).astype(np.float32)
        item_max = (maxima or {}).get(unit, explain.item_maxima(v, text.starts))
        explanation = explain.explain(v, text.words, text.starts, explain.top_items(item_max, text.train), text.lexicon)
        evaluation = explain.evaluation_items(item_max, text.test, seed=unit)
        explained.append((explanation, v, evaluation))
        out.append({"kind": kind, "why": why, "unit": unit, "explanation": explanation.text(),
                    "words": list(explanation.words), "category": explanation.category,
                    "score": explain.score(explanation, v, text.words, text.starts, evaluation, text.lexicon)})
    shuffled_floor(out, explained, text)
    return out


def shuffled_floor(records: list[dict], explained: list, text: Text) -> None:
    """Each random unit scored with the next random unit's explanation, on its own evaluation items: what
    an explanation scores when it was written for something else."""
    random = [i for i, r in enumerate(records) if r["why"] == "random"]
    for position, i in enumerate(random):
        other = explained[random[(position + 1) % len(random)]][0]
        _, v, evaluation = explained[i]
        records[i]["shuffled_score"] = explain.score(other, v, text.words, text.starts, evaluation, text.lexicon)
