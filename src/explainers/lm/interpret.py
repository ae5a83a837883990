"""Automated interpretation: label SAE features without a person, then test each label.

Two labellers, both given only training text:
- **the model names it**: SmolLM2-Instruct reads a feature's top-activating snippets, the peak token
  marked, and is asked what the marked parts share (the recipe of Bills et al. 2023, at 135M scale);
- **the corpus matcher**: the written concept whose training sentences the feature separates best
  (training AUC), or, when no concept passes ``min_concept_auc``, the token it most often peaks on.

Each label is then scored the same way on held-out text (held-out written sentences and held-out
windows of general text): a simple simulator predicts "fires" for every piece of text that contains
one of the label's words, and the score is the correlation between that prediction and the feature's
real largest activation on the piece (1: the label says exactly where it fires; 0: no better than
nothing). A label that describes a meaning rather than words scores low under this simulator even
when a person would call it right: the chapter shows where that happens.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from ..cache import cached
from ..device import describe, pick
from ..timeline import Timeline
from . import corpus
from .activations import model_files
from .model import load
from .steering import chat_ids, generate
from .train import ChapterConfig, collect, kept_tokens, sae_from, train

STOPWORDS = set("""a an the and or of in on at to for from with by as is are was were be been being it its this that
these those they them their there here what which who whom whose when where why how all any both each few more
most other some such no nor not only own same so than too very can will just should now about into over after
before between through during under again further then once also mark marked marks part parts word words text
common share shared thing things something detector hidden piece pieces token tokens""".split())


@dataclass(frozen=True)
class InterpretConfig:
    chapter: ChapterConfig = field(default_factory=ChapterConfig)
    n_random: int = 8  # live features drawn at random, beside each concept's best detector
    seed: int = 0
    snippets: int = 6  # top-activating snippets shown to the labeller
    before: int = 8  # tokens of context before a snippet's peak
    after: int = 2
    label_tokens: int = 12  # longest label the model may write
    item_tokens: int = 32  # held-out general text is scored in windows this long
    min_concept_auc: float = 0.8


def book_config() -> InterpretConfig:
    from .train import book_config as chapter_config

    return InterpretConfig(chapter=chapter_config())


# --- which features, and what they fire on --------------------------------------------------------

def pick_features(best_per_concept: dict[str, int], density: np.ndarray, n_random: int, seed: int,
                  dense_cutoff: float = 0.1) -> list[tuple[int, list[str]]]:
    """Each concept's best detector (once, with every concept it is best for), then ``n_random`` live,
    non-dense features at random (with no concept)."""
    chosen: dict[int, list[str]] = {}
    for concept, feature in best_per_concept.items():
        chosen.setdefault(int(feature), []).append(concept)
    pool = np.setdiff1d(np.flatnonzero((density > 0) & (density <= dense_cutoff)), list(chosen))
    drawn = np.random.default_rng(seed).choice(pool, size=min(n_random, len(pool)), replace=False)
    return list(chosen.items()) + [(int(f), []) for f in sorted(drawn)]


def top_snippets(values: np.ndarray, seq: np.ndarray, allowed: np.ndarray, n: int, before: int, after: int):
    """The ``n`` highest activations among ``allowed`` rows, one per sequence: ``(window_rows, peak)``,
    where ``peak`` is the position of the top row inside its window."""
    out, used = [], set()
    for row in np.argsort(-np.where(allowed, values, -np.inf)):
        if not allowed[row] or values[row] <= 0 or len(out) == n:
            break
        if seq[row] in used:
            continue
        used.add(seq[row])
        rows = np.flatnonzero(seq == seq[row])
        at = int(np.searchsorted(rows, row))
        start = max(0, at - before)
        out.append((rows[start:at + after + 1], at - start))
    return out


def marked(pieces: list[str], peak: int) -> str:
    """A snippet as one line of text with its peak token between « and »."""
    text = "".join(p if i != peak or not p.strip() else p.replace(p.strip(), f"«{p.strip()}»")
                   for i, p in enumerate(pieces))
    return " ".join(text.split())


def labelling_prompt(snippets: list[str]) -> str:
    lines = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(snippets))
    return ("Below are short pieces of text. In each one, the part between « and » is where one hidden "
            "detector inside a language model fires most strongly.\n\n"
            f"{lines}\n\nWhat do the marked parts have in common? Answer with two to four words only.")


# The answer is started for the model, so that it names a topic instead of restating the question.
ANSWER_START = "The marked parts are all about"


def clean_label(text: str) -> str:
    """The model's continuation of ``ANSWER_START``, up to the end of its first clause."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.split(r"[.,;:!?(]", line)[0]
    return line.strip(" \"'«»*`")[:60]


# --- the simulator and the score --------------------------------------------------------------------

def label_stems(label: str) -> list[str]:
    """The label's content words, a plural's "s" dropped and cut to five letters, so that "dogs" meets
    "dog" and "gardening" meets "garden"."""
    words = [w for w in re.findall(r"[a-z]+", label.lower()) if len(w) >= 3 and w not in STOPWORDS]
    return sorted({(w[:-1] if w.endswith("s") and len(w) > 3 else w)[:5] for w in words})


def simulate(label: str, texts: list[str]) -> np.ndarray:
    """Predict "fires" for each text containing a word that starts with one of the label's stems."""
    stems = label_stems(label)
    if not stems:
        return np.zeros(len(texts), dtype=bool)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, stems)) + r")", re.IGNORECASE)
    return np.array([pattern.search(t) is not None for t in texts])


def explanation_score(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Correlation between the simulator's prediction and the real activation; 0 when either is flat."""
    predicted = predicted.astype(np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if predicted.std() == 0 or actual.std() == 0:
        return 0.0
    return float(np.corrcoef(predicted, actual)[0, 1])


def held_out_items(acts, tokenizer, item_tokens: int):
    """Held-out pieces of text to score labels on: ``(texts, rows_per_item, kinds)``."""
    keep = kept_tokens(acts)
    test = acts["test"].astype(bool)
    sentence, seq = acts["sentence"], acts["seq"]
    written = corpus.sentences()
    texts, rows, kinds = [], [], []
    for s in np.flatnonzero([w.test for w in written]):
        r = np.flatnonzero((sentence == s) & keep)
        if len(r):
            texts.append(written[s].text), rows.append(r), kinds.append("sentence")
    general = np.flatnonzero(test & keep & (sentence < 0))
    for piece in np.unique(seq[general]):
        r = general[seq[general] == piece]
        for start in range(0, len(r), item_tokens):
            window = r[start:start + item_tokens]
            texts.append(tokenizer.decode(acts["token"][window])), rows.append(window), kinds.append("general")
    return texts, rows, kinds


def corpus_label(train_auc: dict[str, float], peak_tokens: list[str], concepts: dict[str, str],
                 min_auc: float) -> tuple[str, str | None]:
    """The best-separated concept's description, or the token the feature most often peaks on."""
    concept, best = max(train_auc.items(), key=lambda kv: kv[1])
    if best >= min_auc:
        return concepts[concept], concept
    visible = [t.strip() for t in peak_tokens if t.strip()]
    if not visible:
        return "white space", None
    return f"the token “{Counter(visible).most_common(1)[0][0]}”", None


# --- the chapter's run ---------------------------------------------------------------------------------

@cached(data=lambda config: model_files(config.chapter.activations))
def run(config: InterpretConfig) -> Timeline:
    from .analysis import auc, encode_all, sentence_max

    device = pick()
    started = time.perf_counter()
    acts = collect(config.chapter.activations)
    trained = train(config.chapter)
    sae = sae_from(trained, device)
    codes = encode_all(sae, acts["resid"], device)
    keep = kept_tokens(acts)
    density = codes.density(np.flatnonzero(keep))
    written = corpus.sentences()
    labels = np.array([s.label for s in written])
    is_train = ~np.array([s.test for s in written])
    concepts = corpus.concepts()
    scores = sentence_max(codes, acts["sentence"], len(written))[is_train]
    aucs = {c: auc(scores, labels[is_train] == c) for c in concepts}
    best = {c: int(np.argmax(aucs[c])) for c in concepts}
    features = pick_features(best, density, config.n_random, config.seed)

    lm = load(config.chapter.activations.model, device)
    tok = lm.tokenizer
    allowed = keep & ~acts["test"].astype(bool)  # labellers see training text only
    items, item_rows, item_kinds = held_out_items(acts, tok, config.item_tokens)
    records, prompts = [], []
    for feature, picked_for in features:
        values = codes.column(feature)
        snippets = top_snippets(values, acts["seq"], allowed, config.snippets, config.before, config.after)
        pieces = [[tok.decode([int(t)]) for t in acts["token"][rows]] for rows, _ in snippets]
        prompts.append(labelling_prompt([marked(p, peak) for p, (_, peak) in zip(pieces, snippets)]))
        label, concept = corpus_label({c: float(aucs[c][feature]) for c in concepts},
                                      [p[peak] for p, (_, peak) in zip(pieces, snippets)], concepts,
                                      config.min_concept_auc)
        actual = np.array([values[r].max() for r in item_rows])
        records.append({"feature": feature, "kind": "concept" if picked_for else "random",
                        "picked_for": picked_for,
                        "picked_auc": [float(aucs[c][feature]) for c in picked_for],
                        "density": float(density[feature]),
                        "snippets": [{"tokens": p, "values": [round(float(v), 3) for v in values[rows]]}
                                     for p, (rows, _) in zip(pieces, snippets)],
                        "corpus_label": label, "corpus_concept": concept,
                        "corpus_train_auc": float(max(aucs[c][feature] for c in concepts)),
                        "fires_on_items": int((actual > 0).sum()), "actual": actual})

    label_started = time.perf_counter()
    start = tok(" " + ANSWER_START, add_special_tokens=False).input_ids
    answers = generate(lm, [chat_ids(tok, p) + start for p in prompts], config.label_tokens)
    label_s = time.perf_counter() - label_started
    for record, answer in zip(records, answers):
        actual = record.pop("actual")
        record["model_answer"] = tok.decode(answer, skip_special_tokens=True)
        record["model_label"] = clean_label(record["model_answer"])
        for who in ("model", "corpus"):
            predicted = simulate(record[f"{who}_label"], items)
            record[f"{who}_score"] = explanation_score(predicted, actual)
            record[f"{who}_predicted"] = int(predicted.sum())
    return Timeline(meta={
        "config": asdict(config), "features": records, "prompt_example": prompts[0],
        "n_items": len(items), "n_sentence_items": item_kinds.count("sentence"),
        "n_general_items": item_kinds.count("general"), "label_s": round(label_s, 2),
        "total_s": round(time.perf_counter() - started, 2), "run": describe(device),
    })


def book_run(config: InterpretConfig | None = None) -> Timeline:
    return run(config or book_config())
