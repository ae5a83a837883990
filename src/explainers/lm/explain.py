"""Automated interpretation on two CPU cores: explain a unit (an SAE feature or a neuron) from its top
activations on training text, then test the explanation by predicting the unit on held-out text.

This is the explain-simulate-score loop of Bills et al. (2023), with the large language model replaced by
something this book can run: a 135M-parameter model writes poor labels (the previous edition measured
that), so the **explainer** reads the words a unit peaks on and the WordNet category most of them share,
and the **simulator** predicts "fires" on every held-out word that is one of those words or belongs to that
category. The **score** is the correlation between that prediction and the unit's real activations, over
held-out items: the unit's ten strongest and ten drawn at random, as Bills et al. and Bricken et al. (2023)
mix top and random text, so that a unit cannot score by predicting only its peaks or only its silence.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

TOP_ITEMS = 20  # training items whose peaks the explainer reads
N_WORDS = 3  # words in an explanation
CATEGORY_SHARE = 0.5  # a category is named when at least this share of the peak words belong to it
EVAL_TOP, EVAL_RANDOM = 10, 10  # held-out items a score is measured on

LETTERS = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Explanation:
    words: tuple[str, ...]
    category: str  # a WordNet lexicographer file such as "noun.animal", or ""

    def text(self) -> str:
        topic = f"; topic: {self.category.split('.', 1)[1]} ({self.category.split('.')[0]}s)" if self.category else ""
        return ("words: " + ", ".join(self.words) if self.words else "no words") + topic


def token_words(tokens: list[str]) -> np.ndarray:
    """For each token (as decoded text) of one sequence, the lowercase word it is part of ("" for none).
    A word starts at a token that begins with a space or a non-letter, or follows one that ends so."""
    words = np.empty(len(tokens), dtype=object)
    start = 0
    for j in range(1, len(tokens) + 1):
        if j == len(tokens) or not tokens[j][:1].isalpha() or not tokens[j - 1][-1:].isalpha():
            word = "".join(LETTERS.findall("".join(tokens[start:j]).lower()))
            words[start:j] = word
            start = j
    return words


def base_forms(word: str) -> list[str]:
    """The word and the forms an English plural or third person may have come from."""
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s") and len(word) > 3:
        forms.append(word[:-1])
    return forms


class Lexicon:
    """word -> the WordNet lexicographer files of its senses (single-word lemmas only)."""

    def __init__(self, table: dict[str, set[str]]):
        self.table = table

    @classmethod
    def from_wordnet(cls, synsets) -> "Lexicon":
        table: dict[str, set[str]] = {}
        for synset in synsets.values():
            for lemma in synset.lemmas:
                if "_" not in lemma and "-" not in lemma:
                    table.setdefault(lemma.lower(), set()).add(synset.lexname)
        return cls(table)

    def categories(self, word: str) -> set[str]:
        for form in base_forms(word):
            if form in self.table:
                return self.table[form]
        return set()


def item_maxima(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The largest value over each item's tokens; ``starts`` are the items' first rows (sorted)."""
    return np.maximum.reduceat(values, starts)


def top_items(maxima: np.ndarray, train: np.ndarray) -> np.ndarray:
    """The ``TOP_ITEMS`` training items where the unit fires hardest (only items where it fires)."""
    candidates = np.flatnonzero(train & (maxima > 0))
    return candidates[np.argsort(-maxima[candidates], kind="stable")[:TOP_ITEMS]]


def explain(values: np.ndarray, words: np.ndarray, starts: np.ndarray, items: np.ndarray,
            lexicon: Lexicon) -> Explanation:
    """An explanation from the unit's peaks in ``items`` (its strongest training items): the words it
    peaks on most often (ties by activation), and the category most of those words share, if any."""
    ends = np.append(starts[1:], len(values))
    peaks = []
    for i in items:
        row = starts[i] + int(np.argmax(values[starts[i]:ends[i]]))
        if words[row]:
            peaks.append((words[row], float(values[row])))
    if not peaks:
        return Explanation((), "")
    count, weight = Counter(w for w, _ in peaks), Counter()
    for w, v in peaks:
        weight[w] += v
    chosen = tuple(sorted(count, key=lambda w: (-count[w], -weight[w], w))[:N_WORDS])
    shares = Counter(c for w, _ in peaks for c in lexicon.categories(w))
    category, hits = max(shares.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0))
    return Explanation(chosen, category if hits >= CATEGORY_SHARE * len(peaks) else "")


def simulate(explanation: Explanation, words: np.ndarray, lexicon: Lexicon) -> np.ndarray:
    """1 for every token whose word the explanation names or whose word is in its category, else 0."""
    named = set(explanation.words)
    memo: dict[str, float] = {}

    def fires(word: str) -> float:
        if word not in memo:
            memo[word] = float(bool(word) and (any(f in named for f in base_forms(word)) or bool(
                explanation.category and explanation.category in lexicon.categories(word))))
        return memo[word]

    return np.array([fires(w) for w in words], dtype=np.float32)


def correlation(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Pearson correlation; 0 when either side is constant (nothing to predict, or no prediction)."""
    predicted, actual = np.asarray(predicted, np.float64), np.asarray(actual, np.float64)
    if predicted.std() == 0 or actual.std() == 0:
        return 0.0
    return float(np.corrcoef(predicted, actual)[0, 1])


def evaluation_items(maxima: np.ndarray, test: np.ndarray, seed: int) -> np.ndarray:
    """The unit's ``EVAL_TOP`` strongest held-out items and ``EVAL_RANDOM`` others drawn at random."""
    held = np.flatnonzero(test)
    top = held[np.argsort(-maxima[held], kind="stable")[:EVAL_TOP]]
    rest = np.setdiff1d(held, top)
    drawn = np.random.default_rng(seed).choice(rest, size=min(EVAL_RANDOM, len(rest)), replace=False)
    return np.sort(np.concatenate([top, drawn]))


def score(explanation: Explanation, values: np.ndarray, words: np.ndarray, starts: np.ndarray,
          items: np.ndarray, lexicon: Lexicon) -> float:
    """How well the explanation predicts the unit over the tokens of ``items`` (held-out, top and random)."""
    ends = np.append(starts[1:], len(values))
    rows = np.concatenate([np.arange(starts[i], ends[i]) for i in items])
    return correlation(simulate(explanation, words[rows], lexicon), values[rows])
