"""The real-model page's automated interpretation (``lm.explain``), for every live feature at once.

``lm.explain`` reads one unit's activation at every token: for thousands of features that is a dense
column each, and its simulator is a Python loop over every word it reads. Here a feature's peaks and its
evaluation items come from its sparse codes, and the simulator is a lookup table over the corpus's
distinct words, so a feature costs tens of microseconds. The explanation and the score are the ones
``lm.explain`` gives (tests/test_feature_browser.py checks it against ``lm.explain`` itself).
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from ..lm import explain


def corpus_words(strings: list[str], unique_of_row: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each token row's word as ``explain.token_words`` reads it, item by item (``starts``: each item's
    first row), as an id into the returned list of distinct words. ``strings[unique_of_row[r]]`` is row
    r's token as text. A word is the lowercase letters of the tokens from one word start to the next."""
    letters = np.array(["".join(explain.LETTERS.findall(s.lower())) for s in strings], dtype=object)
    starts_alpha = np.array([s[:1].isalpha() for s in strings], dtype=bool)
    ends_alpha = np.array([s[-1:].isalpha() for s in strings], dtype=bool)
    u = unique_of_row
    begins = np.ones(len(u), dtype=bool)
    begins[1:] = ~starts_alpha[u[1:]] | ~ends_alpha[u[:-1]]
    begins[starts] = True
    first = np.flatnonzero(begins)
    sizes = np.diff(np.append(first, len(u)))
    pieces = letters[u]
    word_of_group = pieces[first].copy()
    for g in np.flatnonzero(sizes > 1):  # most words are one token; the rest are joined here
        word_of_group[g] = "".join(pieces[first[g]:first[g] + sizes[g]])
    words, ids = np.unique(word_of_group.astype(str), return_inverse=True)
    return np.repeat(ids, sizes).astype(np.int32), words.tolist()


class Simulator:
    """``explain.simulate`` as a table over the corpus's distinct words: which words an explanation
    predicts "fires" on (a word it names, by any base form, or a word of its category)."""

    def __init__(self, words: list[str], lexicon: explain.Lexicon):
        self.words = words
        self.categories = [lexicon.categories(w) if w else set() for w in words]
        self.by_form: dict[str, list[int]] = {}
        self.by_category: dict[str, list[int]] = {}
        for i, w in enumerate(words):
            if not w:
                continue
            for form in explain.base_forms(w):
                self.by_form.setdefault(form, []).append(i)
            for category in self.categories[i]:
                self.by_category.setdefault(category, []).append(i)

    def fires(self, explanation: explain.Explanation) -> np.ndarray:
        out = np.zeros(len(self.words), dtype=np.float32)
        for w in explanation.words:
            out[self.by_form.get(w, [])] = 1.0
        if explanation.category:
            out[self.by_category.get(explanation.category, [])] = 1.0
        return out


def explain_peaks(peak_words, peak_values, sim: Simulator) -> explain.Explanation:
    """``explain.explain`` from a unit's peaks (one word id and activation per top training item, strongest
    first): the words it peaks on most often (ties by activation), and the category most of them share."""
    peaks = [(int(w), float(v)) for w, v in zip(peak_words, peak_values) if sim.words[w]]
    if not peaks:
        return explain.Explanation((), "")
    count, weight = Counter(w for w, _ in peaks), Counter()
    for w, v in peaks:
        weight[w] += v
    ranked = sorted(count, key=lambda w: (-count[w], -weight[w], sim.words[w]))
    chosen = tuple(sim.words[w] for w in ranked[: explain.N_WORDS])
    shares = Counter(c for w, _ in peaks for c in sim.categories[w])
    category, hits = max(shares.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0))
    return explain.Explanation(chosen, category if hits >= explain.CATEGORY_SHARE * len(peaks) else "")


def evaluation_items(strongest: np.ndarray, held: np.ndarray, seed: int) -> np.ndarray:
    """``explain.evaluation_items`` from the held-out items where the unit fires, strongest first (ties by
    item): its ``EVAL_TOP`` strongest held-out items (the first silent ones where it fires on fewer) and
    ``EVAL_RANDOM`` others drawn with the same generator. ``held``: every held-out item, sorted."""
    top = strongest[: explain.EVAL_TOP]
    if len(top) < explain.EVAL_TOP:  # a stable sort puts the silent items next, in item order
        silent = held[~np.isin(held, strongest)][: explain.EVAL_TOP - len(top)]
        top = np.concatenate([top, silent])
    rest = np.delete(held, np.searchsorted(held, top))
    drawn = np.random.default_rng(seed).choice(rest, size=min(explain.EVAL_RANDOM, len(rest)), replace=False)
    return np.sort(np.concatenate([top, drawn]))
