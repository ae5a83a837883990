"""Steering SmolLM2 by editing its residual stream while it writes, measured rather than shown off.

Two ways to push the model toward a concept, both applied to the residual stream after block ``layer``
(the SAE's layer) at every position of the prompt and of the answer (attention sinks excepted):

- **clamp an SAE feature**: encode the activation, set one feature to ``strength × its largest
  activation``, decode, and add back the SAE's reconstruction error, so that everything the SAE does
  not capture passes through untouched (the recipe of Templeton et al. 2024);
- **add a direction**: the mean activation on the concept's written sentences minus the mean on the
  other topics' sentences (activation addition), scaled to the same length as the clamp adds to a silent
  feature, so the two methods share one strength axis.

The feature is chosen by a rule fixed on training data before any answer is generated: among the
features that detect the concept on the training sentences, the one whose decoder direction, read
through the model's unembedding, most raises the concept's own words. Each setting answers the same
fixed, unrelated prompts greedily, so a run is deterministic; it is scored by how many answers mention
the concept and by how fluent they stay (the unsteered model's loss on the answer, and how much of it
repeats itself).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick
from ..lm import corpus
from ..lm.activations import collect, model_files
from ..lm.model import load
from ..lm.stages import ChapterConfig, book_config as chapter_config, kept_tokens, sae_from, sparse_codes, train
from ..progress import bar
from ..real_model.detection import auc
from ..timeline import Timeline
from .words import CONCEPT_WORDS, METHODS, MIN_AUC, PROMPTS, mentions


@dataclass(frozen=True)
class SteeringConfig:
    chapter: ChapterConfig = field(default_factory=ChapterConfig)
    concepts: tuple[str, ...] = ("golden_gate", "dog")
    strengths: tuple[float, ...] = (0, 1, 2, 3, 4, 8)  # × the feature's largest activation
    prompts: tuple[str, ...] = PROMPTS
    max_new_tokens: int = 24
    positions: str = "all"  # "all": the prompt and the answer; "answer": only where the answer is written
    min_auc: float = MIN_AUC  # the feature rule's detection threshold


def book_config() -> SteeringConfig:
    return SteeringConfig(chapter=chapter_config())


def tiny_config() -> SteeringConfig:
    from ..real_model.train import tiny_config as tiny_chapter

    return SteeringConfig(chapter=tiny_chapter(), concepts=("golden_gate",), strengths=(0, 2, 4), prompts=PROMPTS[:2],
                          max_new_tokens=6)


def runs(config: SteeringConfig | None = None) -> Timeline:
    return run(config or book_config())


# --- what to steer with ----------------------------------------------------------------------------

def mean_difference(resid: np.ndarray, rows: np.ndarray, labels: np.ndarray, concept: str) -> np.ndarray:
    """Mean activation over the concept's tokens minus the mean over the other topics' tokens.
    ``labels[i]`` is the concept of the sentence that row ``rows[i]`` belongs to."""
    inside = rows[labels == concept]
    outside = rows[labels != concept]
    return resid[inside].astype(np.float64).mean(0) - resid[outside].astype(np.float64).mean(0)


def promotion(decoder: np.ndarray, unembed: np.ndarray, word_ids: list[int], chunk: int = 512) -> np.ndarray:
    """For each decoder row, how far it raises the words' logits, in standard deviations over the
    vocabulary (the mean over the words): the direct effect of writing that direction ("logit lens").
    ``unembed`` is [vocab, width], with the final norm's gain already folded in."""
    out = np.empty(len(decoder))
    unembed = unembed.astype(np.float32)
    for start in range(0, len(decoder), chunk):
        logits = decoder[start:start + chunk].astype(np.float32) @ unembed.T  # [rows, vocab]
        z = (logits[:, word_ids] - logits.mean(1, keepdims=True)) / (logits.std(1, keepdims=True) + 1e-12)
        out[start:start + chunk] = z.mean(1)
    return out


def choose_feature(train_auc: np.ndarray, raises: np.ndarray, min_auc: float = MIN_AUC) -> int:
    """Among features that detect the concept (training AUC ≥ ``min_auc``; else the ten best detectors),
    the one that most raises the concept's words. The best detector alone can fire on the context around
    a concept rather than write the concept itself."""
    candidates = np.flatnonzero(train_auc >= min_auc)
    if len(candidates) == 0:
        candidates = np.argsort(-train_auc)[:10]
    return int(candidates[np.argmax(raises[candidates])])


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
def steering(lm, layer: int, edit, limit: float, positions: str = "all"):
    """Apply ``edit`` to the residual after ``layer`` blocks at every position whose norm is below
    ``limit`` (attention sinks, whose norm is far larger, keep theirs). ``positions="answer"`` edits only
    where the answer is written: the prompt's last position (which predicts the first answer token) and
    every generated token, leaving the question itself as the model read it."""
    def hook(module, inputs, output):
        hidden = output[0] if isinstance(output, tuple) else output
        x = hidden.float()
        where = x.norm(dim=-1) < limit
        if positions == "answer" and x.shape[1] > 1:  # the prompt's pass (generated tokens come one by one)
            where[:, :-1] = False
        new = torch.where(where[..., None], edit(x), x).to(hidden.dtype)
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


# --- the chapter's run ---------------------------------------------------------------------------------

def written_rows(acts) -> tuple[np.ndarray, np.ndarray]:
    """Training tokens of the written sentences (sinks left out) and each one's concept label."""
    labels = np.array(acts.meta["labels"] + [""])
    item = acts["item"]
    written = acts["item_source"][item] == 2
    rows = np.flatnonzero(kept_tokens(acts) & written & ~acts["item_test"].astype(bool)[item])
    return rows, labels[acts["item_label"][item[rows]]]


def steering_setup(config: SteeringConfig, lm, device):
    """Everything a generation needs that does not depend on the strength: the SAE, the chosen
    features, their unit of strength, the directions and the sink threshold."""
    acts = collect(config.chapter.activations)
    trained = train(config.chapter)
    codes = sparse_codes(config.chapter)
    sae = sae_from(trained, device)
    resid = acts["resid"]
    rows, row_labels = written_rows(acts)
    keep = np.flatnonzero(kept_tokens(acts))
    # each feature's largest activation over each written training sentence
    n_items = len(acts["item_source"])
    feature_max = codes.item_max(acts["item"][keep], n_items, rows=keep)
    train_items = np.flatnonzero((acts["item_source"] == 2) & ~acts["item_test"].astype(bool))
    item_labels = np.array(acts.meta["labels"])[acts["item_label"][train_items]]
    decoder = trained["W_dec"].astype(np.float64)
    gain = lm.model.model.norm.weight.detach().float().cpu().numpy()
    unembed = lm.model.get_output_embeddings().weight.detach().float().cpu().numpy() * gain
    norms = np.linalg.norm(resid[keep[:: max(1, len(keep) // 20000)]].astype(np.float32), axis=1)
    median_norm = float(np.median(norms))
    chosen = {}
    for concept in config.concepts:
        direction = mean_difference(resid, rows, row_labels, concept)
        train_auc = auc(feature_max[train_items], item_labels == concept)
        word_ids = [lm.tokenizer(w, add_special_tokens=False).input_ids[0] for w in CONCEPT_WORDS[concept]]
        raises = promotion(decoder, unembed, word_ids)
        feature = choose_feature(train_auc, raises, config.min_auc)
        largest = float(codes.column(feature)[keep].max())
        chosen[concept] = {
            "feature": feature, "train_auc": float(train_auc[feature]), "max_activation": largest,
            "raises": float(raises[feature]), "raises_best_detector": float(raises[int(np.argmax(train_auc))]),
            # the most any feature of the dictionary raises the concept's words: no feature, no lever
            "raises_most": float(raises.max()), "raises_most_feature": int(np.argmax(raises)),
            # how much of the SAE's training text is about the concept
            "training_tokens": int(np.sum(row_labels == concept)),
            "best_detector": int(np.argmax(train_auc)),
            "cosine": float(decoder[feature] @ direction / (np.linalg.norm(decoder[feature]) * np.linalg.norm(direction))),
            # a silent feature clamped to its largest activation adds a vector this long
            "unit_norm": largest / float(trained["scale"]),
            "direction_norm": float(np.linalg.norm(direction)),
            "direction": direction.astype(np.float32),
        }
    return sae, chosen, 10.0 * median_norm, median_norm


def edit_for(sae, choice: dict, method: str, strength, device):
    """The edit at ``strength`` × the feature's largest activation: one number, or one per row of a batch
    (so that every strength answers in one batch). ``None`` when nothing is to be edited."""
    if np.all(np.asarray(strength) == 0):
        return None
    per_row = torch.as_tensor(np.asarray(strength, dtype=np.float32), device=device).reshape(-1, 1, 1)
    if method == "feature":
        return clamp_feature(sae, choice["feature"], per_row[..., 0] * choice["max_activation"])
    direction = torch.from_numpy(choice["direction"]).to(device)
    return add_vector(direction / direction.norm() * (per_row * choice["unit_norm"]))


def steered_answers(lm, sae, choice: dict, method: str, strengths, prompt_ids, limit, config, device) -> dict:
    """``{strength: answers}`` for every nonzero strength, all generated in one batch: row r is prompt
    r % n at strength r // n. One batch is faster than one per strength, and ``reproduce`` repeats it
    exactly, since a batch's shape can change the last bits of its arithmetic and so a greedy answer."""
    steered = [s for s in strengths if s != 0]
    if not steered:
        return {}
    n = len(prompt_ids)
    edit = edit_for(sae, choice, method, np.repeat(steered, n), device)
    rows = answer(lm, config.chapter.activations.layer, prompt_ids * len(steered), edit, limit,
                  config.max_new_tokens, config.positions)
    return {s: rows[i * n:(i + 1) * n] for i, s in enumerate(steered)}


def answer(lm, layer, prompt_ids, edit, limit, max_new_tokens, positions: str = "all") -> list[list[int]]:
    with steering(lm, layer, edit, limit, positions):
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
    lm = load(config.chapter.activations.model, device, config.chapter.activations.dtype)
    sae, chosen, limit, median_norm = steering_setup(config, lm, device)
    setup_s = time.perf_counter() - started
    layer = config.chapter.activations.layer
    prompt_ids = [chat_ids(lm.tokenizer, p) for p in config.prompts]
    generation_started = time.perf_counter()
    baseline = answer(lm, layer, prompt_ids, None, limit, config.max_new_tokens)
    settings = []
    jobs = [(c, m, s) for c in config.concepts for m in METHODS for s in config.strengths]
    for concept, method in bar([(c, m) for c in config.concepts for m in METHODS], desc="steered generations"):
        answers = {0: baseline} | steered_answers(lm, sae, chosen[concept], method, config.strengths, prompt_ids,
                                                  limit, config, device)
        for strength in config.strengths:
            settings.append({"concept": concept, "method": method, "strength": float(strength),
                             # the length of what the edit adds, against the residual stream's median length
                             "added_norm": float(strength * chosen[concept]["unit_norm"] / median_norm),
                             **score(lm, concept, prompt_ids, answers[strength])})
    generation_s = time.perf_counter() - generation_started
    import transformers

    return Timeline(
        fixed={f"direction_{c}": chosen[c]["direction"] for c in config.concepts},
        meta={"config": asdict(config), "settings": settings,
              "concept_names": {c: corpus.written_concepts()[c] for c in config.concepts},
              "features": {c: {k: v for k, v in chosen[c].items() if k != "direction"} for c in config.concepts},
              "layer": layer, "sink_limit": limit, "median_norm": median_norm,
              "model": lm.source.rsplit("/", 1)[-1], "generation_s": round(generation_s, 2),
              "setup_s": round(setup_s, 2),
              # the unsteered answers are generated once and shared by every strength-0 setting
              "n_generations": (sum(s != 0 for _, _, s in jobs) + 1) * len(config.prompts),
              "total_s": round(time.perf_counter() - started, 2),
              "transformers": transformers.__version__, "run": describe(device)},
    )


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
    lm = load(config.chapter.activations.model, device, config.chapter.activations.dtype)
    prompt_ids = [chat_ids(lm.tokenizer, p) for p in config.prompts]
    limit = done.meta["sink_limit"]
    if float(strength) == 0:
        answers = answer(lm, config.chapter.activations.layer, prompt_ids, None, limit, config.max_new_tokens)
    else:  # a strength the book ran comes from the same batch as the book's; any other is generated alone
        batch = config.strengths if float(strength) in map(float, config.strengths) else (float(strength),)
        answers = steered_answers(lm, sae, choice, method, batch, prompt_ids, limit, config, device)[float(strength)]
    return [(p, lm.tokenizer.decode(a, skip_special_tokens=True)) for p, a in zip(config.prompts, answers)]
