"""Steering SmolLM2 by editing its residual stream while it writes, measured rather than shown off.

Two ways to push the model toward a concept, both applied to the residual stream after block ``layer``
(the SAE's layer) at every position of the prompt and of the answer (attention sinks excepted):

- **clamp an SAE feature**: encode the activation, set one feature to ``strength × its largest
  activation``, decode, and add back the SAE's reconstruction error, so that everything the SAE does
  not capture passes through untouched (Templeton et al. 2024's "Golden Gate Claude" recipe);
- **add a direction**: the mean activation on the concept's written sentences minus the mean on the
  other topics' sentences, scaled to the same length as the clamp adds to a silent feature, so the two
  methods share one strength axis.

Each setting answers the same fixed, unrelated prompts greedily, so a run is deterministic; it is
scored by how many answers mention the concept and by how fluent they stay (the unsteered model's
loss on the answer, and how much of it repeats itself).
"""
from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick
from ..progress import bar
from ..timeline import Timeline
from . import corpus
from .activations import model_files
from .model import load
from .train import ChapterConfig, collect, kept_tokens, sae_from, train

# Unrelated everyday requests: none names a steered concept.
PROMPTS = (
    "What is your favourite food?",
    "Describe your ideal weekend.",
    "Give me advice for a job interview.",
    "What should I do on a rainy day?",
    "Tell me a short story.",
    "What is the best way to learn a language?",
    "Write one sentence about the future.",
    "How do I stay focused while working?",
)
# An answer "mentions" a concept when one of these matches (case-insensitive).
MENTIONS = {
    "golden_gate": r"golden gate|san francisco|\bbridges?\b",
    "dog": r"\b(dogs?|dogg\w*|pupp(y|ies)|canines?|leash\w*|woof\w*|bark(s|ed|ing)?)\b",
    "music": r"\b(music\w*|songs?|sing(s|ing|er|ers)?|melod\w*|guitar\w*|piano\w*|concerts?|bands?)\b",
    "apple_company": r"\b(apple|iphones?|ipads?|macs?|macbooks?|steve jobs|tim cook)\b",
}
METHODS = {"feature": "clamp the SAE feature", "direction": "add the mean-difference direction"}


@dataclass(frozen=True)
class SteeringConfig:
    chapter: ChapterConfig = field(default_factory=ChapterConfig)
    concepts: tuple[str, ...] = ("golden_gate", "dog", "music")
    strengths: tuple[float, ...] = (0, 1, 1.5, 2, 3, 4, 6)  # × the feature's largest activation
    prompts: tuple[str, ...] = PROMPTS
    max_new_tokens: int = 24
    min_auc: float = 0.9  # a steering feature must detect its concept at least this well (training AUC)


def book_config() -> SteeringConfig:
    from .train import book_config as chapter_config

    return SteeringConfig(chapter=chapter_config())


# --- what to steer with ----------------------------------------------------------------------------

def mean_difference(resid: np.ndarray, rows: np.ndarray, labels: np.ndarray, concept: str) -> np.ndarray:
    """Mean activation over the concept's tokens minus the mean over the other topics' tokens.
    ``labels[i]`` is the concept of the sentence that row ``rows[i]`` belongs to."""
    inside = rows[labels == concept]
    outside = rows[labels != concept]
    return resid[inside].astype(np.float64).mean(0) - resid[outside].astype(np.float64).mean(0)


def choose_feature(train_auc: np.ndarray, decoder: np.ndarray, direction: np.ndarray, min_auc: float) -> int:
    """Among features that detect the concept (training AUC ≥ ``min_auc``), the one whose decoder
    direction points most nearly along the concept's mean difference: a detector that also writes the
    concept. The best detector alone can fire on the context around a concept rather than on it."""
    candidates = np.flatnonzero(train_auc >= min_auc)
    if len(candidates) == 0:
        candidates = np.array([int(np.argmax(train_auc))])
    cosine = decoder[candidates] @ direction / (np.linalg.norm(decoder[candidates], axis=1)
                                                * np.linalg.norm(direction) + 1e-12)
    return int(candidates[np.argmax(cosine)])


# --- editing the residual stream --------------------------------------------------------------------

def clamp_feature(sae, feature: int, value: float):
    """``x -> decode(f with f[feature] = value) + (x - decode(f))``: the SAE's error term is kept."""
    def edit(x):
        f = sae.encode(x)
        error = x - sae.decode(f)
        f[..., feature] = value
        return sae.decode(f) + error
    return edit


def add_vector(vector: torch.Tensor):
    return lambda x: x + vector


@contextmanager
def steering(lm, layer: int, edit, limit: float):
    """Apply ``edit`` to the residual after ``layer`` blocks at every position whose norm is below
    ``limit`` (attention sinks, whose norm is far larger, keep theirs)."""
    def hook(module, inputs, output):
        hidden = output[0] if isinstance(output, tuple) else output
        x = hidden.float()
        new = torch.where((x.norm(dim=-1) < limit)[..., None], edit(x), x).to(hidden.dtype)
        return (new, *output[1:]) if isinstance(output, tuple) else new

    handle = None if edit is None else lm.layers[layer - 1].register_forward_hook(hook)
    try:
        yield
    finally:
        if handle is not None:
            handle.remove()


# --- generating and scoring ---------------------------------------------------------------------------

def chat_ids(tokenizer, prompt: str) -> list[int]:
    """The prompt as the instruct model's chat template frames it, ready for the answer."""
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False).input_ids


@torch.no_grad()
def generate(lm, prompt_ids: list[list[int]], max_new_tokens: int) -> list[list[int]]:
    """Greedy answers for a batch of prompts (left-padded), each cut at its end-of-turn token."""
    tok = lm.tokenizer
    device = next(lm.model.parameters()).device
    width = max(map(len, prompt_ids))
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    ids = torch.full((len(prompt_ids), width), pad, dtype=torch.long)
    attention = torch.zeros_like(ids)
    for i, row in enumerate(prompt_ids):
        ids[i, width - len(row):] = torch.tensor(row)
        attention[i, width - len(row):] = 1
    out = lm.model.generate(input_ids=ids.to(device), attention_mask=attention.to(device), do_sample=False,
                            max_new_tokens=max_new_tokens, pad_token_id=pad)
    stops = {tok.eos_token_id, pad}
    answers = []
    for row in out[:, width:].tolist():
        cut = next((i for i, t in enumerate(row) if t in stops), len(row))
        answers.append(row[:cut])
    return answers


@torch.no_grad()
def answer_losses(lm, prompt_ids: list[list[int]], answers: list[list[int]]) -> list[float]:
    """The unsteered model's mean next-token loss on each answer, given its prompt (nan if empty)."""
    device = next(lm.model.parameters()).device
    rows = [p + a for p, a in zip(prompt_ids, answers)]
    width = max(map(len, rows))
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row)
    attention = (torch.arange(width)[None] < torch.tensor([len(r) for r in rows])[:, None]).long()
    logits = lm.model(input_ids=ids.to(device), attention_mask=attention.to(device), use_cache=False).logits
    logp = torch.log_softmax(logits.float(), dim=-1).cpu()
    out = []
    for i, (p, a) in enumerate(zip(prompt_ids, answers)):
        if not a:
            out.append(float("nan"))
            continue
        positions = torch.arange(len(p) - 1, len(p) + len(a) - 1)
        out.append(float(-logp[i, positions, torch.tensor(a)].mean()))
    return out


def repetition(tokens: list[int], n: int = 3) -> float:
    """Share of an answer's token n-grams that already occurred earlier in it (0: none repeat)."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def mentions(concept: str, text: str) -> bool:
    return re.search(MENTIONS[concept], text, flags=re.IGNORECASE) is not None


# --- the chapter's run ---------------------------------------------------------------------------------

def concept_rows(acts) -> tuple[np.ndarray, np.ndarray]:
    """Training tokens of the written sentences (sinks left out) and each one's concept label."""
    written = corpus.sentences()
    labels = np.array([s.label for s in written])
    sentence = acts["sentence"]
    rows = np.flatnonzero(kept_tokens(acts) & (sentence >= 0) & ~acts["test"].astype(bool))
    return rows, labels[sentence[rows]]


def steering_setup(config: SteeringConfig, device=None):
    """Everything a generation needs that does not depend on the strength: the SAE, the chosen
    features, their unit of strength, the directions and the sink threshold."""
    from .analysis import auc, encode_all, sentence_max

    device = device or pick()
    acts = collect(config.chapter.activations)
    trained = train(config.chapter)
    sae = sae_from(trained, device)
    resid = acts["resid"]
    rows, row_labels = concept_rows(acts)
    codes = encode_all(sae, resid, device)
    written = corpus.sentences()
    labels = np.array([s.label for s in written])
    is_train = ~np.array([s.test for s in written])
    scores = sentence_max(codes, acts["sentence"], len(written))
    keep = np.flatnonzero(kept_tokens(acts))
    decoder = trained["W_dec"].astype(np.float64)
    chosen = {}
    for concept in config.concepts:
        direction = mean_difference(resid, rows, row_labels, concept)
        train_auc = auc(scores[is_train], labels[is_train] == concept)
        feature = choose_feature(train_auc, decoder, direction, config.min_auc)
        largest = float(codes.column(feature)[keep].max())
        chosen[concept] = {
            "feature": feature, "train_auc": float(train_auc[feature]), "max_activation": largest,
            "cosine": float(decoder[feature] @ direction / (np.linalg.norm(decoder[feature])
                                                           * np.linalg.norm(direction))),
            # a silent feature clamped to its largest activation adds a vector this long
            "unit_norm": largest / float(trained["scale"]),
            "direction_norm": float(np.linalg.norm(direction)),
            "direction": direction.astype(np.float32),
        }
    # the sink threshold of the previous chapter (10 × the median norm), from a sample of kept tokens
    limit = float(np.median(np.linalg.norm(resid[keep[:20000]].astype(np.float32), axis=1)) * 10.0)
    median_norm = limit / 10.0
    return sae, chosen, limit, median_norm


def edit_for(sae, choice: dict, method: str, strength: float, device):
    if strength == 0:
        return None
    if method == "feature":
        return clamp_feature(sae, choice["feature"], strength * choice["max_activation"])
    direction = torch.from_numpy(choice["direction"]).to(device)
    return add_vector(direction / direction.norm() * (strength * choice["unit_norm"]))


def answer(lm, layer, prompt_ids, edit, limit, max_new_tokens) -> list[list[int]]:
    with steering(lm, layer, edit, limit):
        return generate(lm, prompt_ids, max_new_tokens)


def score(lm, concept: str, prompt_ids, answers) -> dict:
    texts = [lm.tokenizer.decode(a, skip_special_tokens=True) for a in answers]
    losses = answer_losses(lm, prompt_ids, answers)
    said = [mentions(concept, t) for t in texts]
    return {"texts": texts, "mentions": said, "losses": losses,
            "mention_fraction": float(np.mean(said)),
            "loss": float(np.nanmean(losses)) if not np.all(np.isnan(losses)) else float("nan"),
            "repetition": float(np.mean([repetition(a) for a in answers])),
            "tokens": [len(a) for a in answers]}


@cached(data=lambda config: model_files(config.chapter.activations))
def run(config: SteeringConfig) -> Timeline:
    device = pick()
    started = time.perf_counter()
    sae, chosen, limit, median_norm = steering_setup(config, device)
    lm = load(config.chapter.activations.model, device)
    layer = config.chapter.activations.layer
    prompt_ids = [chat_ids(lm.tokenizer, p) for p in config.prompts]
    generation_started = time.perf_counter()
    baseline = answer(lm, layer, prompt_ids, None, limit, config.max_new_tokens)
    settings = []
    jobs = [(c, m, s) for c in config.concepts for m in METHODS for s in config.strengths]
    for concept, method, strength in bar(jobs, desc="steered generations"):
        edit = edit_for(sae, chosen[concept], method, strength, device)
        answers = baseline if edit is None else answer(lm, layer, prompt_ids, edit, limit, config.max_new_tokens)
        settings.append({"concept": concept, "method": method, "strength": float(strength),
                         **score(lm, concept, prompt_ids, answers)})
    generation_s = time.perf_counter() - generation_started
    import transformers

    return Timeline(
        fixed={f"direction_{c}": chosen[c]["direction"] for c in config.concepts},
        meta={"config": asdict(config), "settings": settings,
              "features": {c: {k: v for k, v in chosen[c].items() if k != "direction"} for c in config.concepts},
              "layer": layer, "sink_limit": limit, "median_norm": median_norm,
              "model": lm.source.rsplit("/", 1)[-1], "generation_s": round(generation_s, 2),
              # the unsteered answers are generated once and shared by every strength-0 setting
              "n_generations": (sum(s != 0 for _, _, s in jobs) + 1) * len(config.prompts),
              "total_s": round(time.perf_counter() - started, 2),
              "transformers": transformers.__version__, "run": describe(device)},
    )


def book_run(config: SteeringConfig | None = None) -> Timeline:
    return run(config or book_config())


def reproduce(concept: str, method: str, strength: float, config: SteeringConfig | None = None):
    """Generate one setting again, as the book did: ``[(prompt, answer), ...]``."""
    config = config or book_config()
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, not {method!r}")
    if concept not in config.concepts:
        raise ValueError(f"the book steers toward {list(config.concepts)}, not {concept!r}")
    done = run(config)  # the chosen features and directions: from the cache when the book was built
    device = pick()
    sae = sae_from(train(config.chapter), device)
    choice = dict(done.meta["features"][concept], direction=done[f"direction_{concept}"])
    lm = load(config.chapter.activations.model, device)
    prompt_ids = [chat_ids(lm.tokenizer, p) for p in config.prompts]
    edit = edit_for(sae, choice, method, float(strength), device)
    answers = answer(lm, config.chapter.activations.layer, prompt_ids, edit, done.meta["sink_limit"],
                     config.max_new_tokens)
    return [(p, lm.tokenizer.decode(a, skip_special_tokens=True)) for p, a in zip(config.prompts, answers)]
