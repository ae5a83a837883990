"""Steering SmolLM2 by editing its residual stream while it writes, measured rather than shown off.

Two ways to push the model toward a concept, both applied to the residual stream after block ``layer``
(the SAE's layer), attention sinks excepted:

- **an SAE feature**: either *clamp* it (encode the activation, set the feature to ``strength × its
  largest activation``, decode, and add back the SAE's reconstruction error, the recipe of Templeton et
  al. 2024), or *add* its decoder direction in that amount (what AxBench and Neuronpedia do);
- **the mean-difference direction**: the mean activation on the concept's written sentences minus the
  mean on the other topics' sentences (activation addition), scaled to the length that steering a silent
  feature adds, so the two methods share one strength axis.

Which feature, which positions, which edit and which decoding: a ``Recipe``, chosen by the recorded search
on the training prompts (``search.py``). The chapter's run answers the held-out prompts, and scores each
setting against the human answers to the same prompts (``words.works``).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..cache import cached, key_for
from ..device import describe, pick
from ..lm import corpus
from ..lm.activations import batches, model_files
from ..lm.detection import auc
from ..lm.edit import edited_residual
from ..lm.model import load
from ..lm.stages import ChapterConfig, LanguageRun, book_config as chapter_config, sae_from, stages, train
from ..lm.stages import tiny_config as tiny_chapter
from ..progress import bar
from ..timeline import Timeline
from . import recorded
from .words import CONCEPT_WORDS, HELD_OUT, METHODS, MIN_AUC, STRENGTH_PROMPTS, TRAINING, headline_strength, mentions

RULES = ("detection", "logit_lens", "output")


@dataclass(frozen=True)
class Recipe:
    """How a feature steers. The defaults are what the recorded search chose on the training prompts."""
    rule: str = "logit_lens"  # which feature: best "detection", "logit_lens" (writes the words), "output"
    edit: str = "clamp"  # "clamp" the feature inside the SAE, or "add" its decoder direction
    positions: str = "all"  # "all": prompt and answer; "answer": the prompt's last position and the answer
    repetition_penalty: float = 1.0  # 1: plain greedy; above 1, tokens already present are discounted
    candidates: int = 64  # the output rule scores this many best detectors and this many best writers


@dataclass(frozen=True)
class SteeringConfig:
    chapter: ChapterConfig = field(default_factory=ChapterConfig)
    concepts: tuple[str, ...] = ("golden_gate", "dog")
    strengths: tuple[float, ...] = (0, 1, 2, 2.5, 3, 4, 8)  # × the feature's largest activation
    prompts: tuple[tuple[str, str], ...] = HELD_OUT  # (prompt, a person's answer)
    recipe: Recipe = field(default_factory=Recipe)
    # the strength each (concept, method) headlines, chosen by the search on the training prompts
    chosen: tuple[tuple[str, str, float], ...] = ()
    max_new_tokens: int = 24


RECORDS = Path(__file__).resolve().parent / "records"


def latest_record(kind: str) -> dict | None:
    """The newest record of one kind (``records/*-search.json``, ``*-dose.json``), or None."""
    files = sorted(RECORDS.glob(f"*-{kind}.json"))
    return json.loads(files[-1].read_text()) if files else None


def search_record() -> dict | None:
    """The recorded recipe search whose choices the book's run uses."""
    return latest_record("search")


def strength_record() -> dict | None:
    """The newest strength curves (``records/*-strengths.json``) when they follow the newest search and were
    measured on today's ``STRENGTH_PROMPTS``; else None, and the strengths come from the search itself."""
    curves, search = latest_record("strengths"), search_record()
    if curves is None or search is None or curves["search"] != search["provenance"]:
        return None
    return curves if curves["prompts"] == [p for p, _ in STRENGTH_PROMPTS] else None


def chosen_strengths(record: dict) -> list[tuple]:
    """Each (concept, method) of the combined recipe with its strength by ``headline_strength``, applied
    to the record's measurements (a search's or strength curves')."""
    return [(c, method, headline_strength(record["variants"][name]["concepts"][c]["settings"], record["human"]))
            for name, method in (("combined", "feature"), ("combined direction", "direction"))
            for c in record["variants"][name]["concepts"]]


def book_config() -> SteeringConfig:
    """The book's settings: the recipe and layer the recorded search chose on the training prompts, the
    headline strengths chosen on the strength curves, and a strength grid that holds those strengths."""
    chapter, record = chapter_config(), search_record()
    if record is None:
        return SteeringConfig(chapter=chapter)
    chapter = replace(chapter, activations=replace(chapter.activations, layer=record["layer"]))
    chosen = tuple((c, m, float(s)) for c, m, s in chosen_strengths(strength_record() or record) if s is not None)
    strengths = tuple(sorted(set(SteeringConfig.strengths) | {s for _, _, s in chosen}))
    return SteeringConfig(chapter=chapter, recipe=Recipe(**record["recipe"]), chosen=chosen, strengths=strengths)


def tiny_config() -> SteeringConfig:
    return SteeringConfig(chapter=tiny_chapter(), concepts=("golden_gate",), strengths=(0, 2, 4),
                          prompts=HELD_OUT[:2], max_new_tokens=6,
                          recipe=Recipe(rule="output", candidates=4))


# --- what to steer with ----------------------------------------------------------------------------

def mean_difference(resid: np.ndarray, rows: np.ndarray, labels: np.ndarray, concept: str) -> np.ndarray:
    """Mean activation over the concept's tokens minus the mean over the other topics' tokens.
    ``labels[i]`` is the concept of the sentence that row ``rows[i]`` belongs to."""
    inside = rows[labels == concept]
    outside = rows[labels != concept]
    return resid[inside].astype(np.float64).mean(0) - resid[outside].astype(np.float64).mean(0)


def promotion(decoder: np.ndarray, unembed: np.ndarray, word_ids: list[int]) -> np.ndarray:
    """For each decoder row, how far it raises the words' logits, in standard deviations over the
    vocabulary (the mean over the words): the direct effect of writing that direction ("logit lens").
    ``unembed`` is [vocab, width], with the final norm's gain already folded in. The mean and spread of a
    row's logits over the vocabulary come from the unembedding's mean and covariance, so the full
    [rows, vocab] logits are never formed."""
    return LogitLens(decoder, unembed).raises(word_ids)


class LogitLens:
    """``promotion`` for many word lists: the rows' mean and spread over the vocabulary are computed once."""

    def __init__(self, decoder: np.ndarray, unembed: np.ndarray):
        self.u = unembed.astype(np.float64)
        self.d = decoder.astype(np.float64)
        self.mean = self.d @ self.u.mean(0)
        self.spread = np.sqrt(((self.d @ np.cov(self.u, rowvar=False, bias=True)) * self.d).sum(1))

    def raises(self, word_ids: list[int]) -> np.ndarray:
        return (((self.d @ self.u[word_ids].T) - self.mean[:, None]) / (self.spread[:, None] + 1e-12)).mean(1)


def choose_feature(train_auc: np.ndarray, raises: np.ndarray, min_auc: float = MIN_AUC) -> int:
    """The logit-lens rule: among features that detect the concept (training AUC ≥ ``min_auc``; else the
    ten best detectors), the one that most raises the concept's words."""
    candidates = np.flatnonzero(train_auc >= min_auc)
    if len(candidates) == 0:
        candidates = np.argsort(-train_auc)[:10]
    return int(candidates[np.argmax(raises[candidates])])


def output_candidates(train_auc: np.ndarray, raises: np.ndarray, n: int) -> np.ndarray:
    """The features the output rule tries: the ``n`` best detectors and the ``n`` best writers."""
    return np.unique(np.concatenate([np.argsort(-train_auc)[:n], np.argsort(-raises)[:n]]))


@torch.no_grad()
def output_scores(lm, layer: int, vectors: torch.Tensor, prompt_ids: list[list[int]], word_ids: list[int],
                  limit: float, batch_rows: int = 64) -> np.ndarray:
    """The output score by intervention (after Arad et al. 2025): add each vector [candidates, width] at
    the prompt's last position and measure how much the log-probability that the answer starts with one
    of the concept's words rises, averaged over the prompts."""
    device = vectors.device
    n_vec, n_prompts = len(vectors), len(prompt_ids)
    rows = [(v, p) for v in range(-1, n_vec) for p in range(n_prompts)]  # -1: unsteered
    words = torch.tensor(word_ids, device=device)
    out = np.empty(len(rows))
    for start in range(0, len(rows), batch_rows):
        chunk = rows[start:start + batch_rows]
        ids, attention = left_padded([prompt_ids[p] for _, p in chunk])
        added = torch.stack([vectors[v] if v >= 0 else torch.zeros_like(vectors[0]) for v, _ in chunk])
        with edited_residual(lm, layer, lambda x: x + added[:, None, :], limit, positions="answer"):
            logits = lm.model(input_ids=ids.to(device), attention_mask=attention.to(device), use_cache=False).logits
        logp = torch.log_softmax(logits[:, -1].float(), dim=-1)
        out[start:start + len(chunk)] = torch.logsumexp(logp[:, words], dim=-1).cpu().numpy()
    table = out.reshape(n_vec + 1, n_prompts)
    return (table[1:] - table[0]).mean(1)


# --- editing the residual stream --------------------------------------------------------------------

def clamp_feature(sae, feature: int, value):
    """``x -> decode(f with f[feature] = value) + (x - decode(f))``: the SAE's error term is kept."""
    def edit(x):
        f = sae.encode(x)
        error = x - sae.decode(f)
        f[..., feature] = value
        return sae.decode(f) + error
    return edit


def add_vector(vector: torch.Tensor):
    return lambda x: x + vector


def edit_for(sae, choice: dict, method: str, strength, device, recipe: Recipe = Recipe()):
    """The edit at ``strength`` × the feature's largest activation: one number, or one per row of a batch
    (so that every strength answers in one batch). ``None`` when nothing is to be edited."""
    if np.all(np.asarray(strength) == 0):
        return None
    per_row = torch.as_tensor(np.asarray(strength, dtype=np.float32), device=device).reshape(-1, 1, 1)
    if method == "feature" and recipe.edit == "clamp":
        return clamp_feature(sae, choice["feature"], per_row[..., 0] * choice["max_activation"])
    if method == "feature":  # add the decoder row in the amount a silent feature clamped there would add
        row = sae.W_dec[choice["feature"]] / sae.scale
        return add_vector(row * (per_row * choice["max_activation"]))
    direction = torch.from_numpy(choice["direction"]).to(device)
    return add_vector(direction / direction.norm() * (per_row * choice["unit_norm"]))


# --- generating and scoring ---------------------------------------------------------------------------

def chat_ids(tokenizer, prompt: str) -> list[int]:
    """The prompt as the instruct model's chat template frames it, ready for the answer."""
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False).input_ids


def left_padded(rows: list[list[int]], pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    attention = torch.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, width - len(row):] = torch.tensor(row)
        attention[i, width - len(row):] = 1
    return ids, attention


@torch.no_grad()
def generate(lm, prompt_ids: list[list[int]], max_new_tokens: int, repetition_penalty: float = 1.0) -> list[list[int]]:
    """Greedy answers for a batch of prompts (left-padded), each cut at its end-of-turn token. A
    repetition penalty above 1 divides the logit of every token already in the text (Keskar et al. 2019);
    decoding stays greedy, so an answer is reproducible."""
    tok = lm.tokenizer
    device = next(lm.model.parameters()).device
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    ids, attention = left_padded(prompt_ids, pad)
    extra = {"repetition_penalty": repetition_penalty} if repetition_penalty != 1.0 else {}
    out = lm.model.generate(input_ids=ids.to(device), attention_mask=attention.to(device), do_sample=False,
                            max_new_tokens=max_new_tokens, pad_token_id=pad, **extra)
    stops = {tok.eos_token_id, pad}
    answers = []
    for row in out[:, ids.shape[1]:].tolist():
        cut = next((i for i, t in enumerate(row) if t in stops), len(row))
        answers.append(row[:cut])
    return answers


def answer_losses(lm, prompt_ids: list[list[int]], answers: list[list[int]], batch_tokens: int = 4096) -> list[float]:
    """The unsteered model's mean next-token loss on each answer, given its prompt (nan if empty). Each
    distinct (prompt, answer) pair is scored once, however often it recurs (the unsteered answers in every
    setting, weak edits that change nothing), in batches of similar length."""
    pairs = sorted({(tuple(p), tuple(a)) for p, a in zip(prompt_ids, answers) if a})
    losses = {}
    for group in batches([len(p) + len(a) for p, a in pairs], batch_tokens):
        batch = [pairs[i] for i in group]
        losses.update(zip(batch, batch_losses(lm, batch)))
    return [losses[(tuple(p), tuple(a))] if a else float("nan") for p, a in zip(prompt_ids, answers)]


@torch.no_grad()
def batch_losses(lm, pairs: list[tuple[tuple, tuple]]) -> list[float]:
    """``answer_losses`` for one batch of non-empty (prompt, answer) pairs: only the positions that predict
    an answer token go through the unembedding."""
    device = next(lm.model.parameters()).device
    rows = [p + a for p, a in pairs]
    width = max(map(len, rows))
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row)
    attention = (torch.arange(width)[None] < torch.tensor([len(r) for r in rows])[:, None]).long()
    hidden = lm.model.model(input_ids=ids.to(device), attention_mask=attention.to(device), use_cache=False).last_hidden_state
    where = [torch.arange(len(p) - 1, len(p) + len(a) - 1) for p, a in pairs]
    picked = torch.cat([hidden[i, positions.to(device)] for i, positions in enumerate(where)])
    logp = torch.log_softmax(lm.model.lm_head(picked).float(), dim=-1).cpu()
    out, offset = [], 0
    for (_, answer), positions in zip(pairs, where):
        n = len(positions)
        out.append(float(-logp[torch.arange(offset, offset + n), torch.tensor(answer)].mean()))
        offset += n
    return out


def repetition(tokens: list[int], n: int = 3) -> float:
    """Share of an answer's token n-grams that already occurred earlier in it (0: none repeat)."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def interval(values, seed: int = 0, draws: int = 2000) -> list[float]:
    """A bootstrap 95 % interval of the mean over prompts."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return [float("nan"), float("nan")]
    means = np.random.default_rng(seed).choice(values, size=(draws, len(values))).mean(1)
    return [float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))]


def score(lm, concept: str | None, prompt_ids, answers, losses: list[float] | None = None) -> dict:
    """What the page reports of one setting's answers; ``losses`` when ``scored`` computed them already."""
    texts = [lm.tokenizer.decode(a, skip_special_tokens=True) for a in answers]
    losses = answer_losses(lm, prompt_ids, answers) if losses is None else losses
    said = [mentions(concept, t) for t in texts] if concept else [False] * len(texts)
    reps = [repetition(a) for a in answers]
    return {"texts": texts, "mentions": said, "losses": losses,
            "mention_fraction": float(np.mean(said)), "mention_interval": interval(said),
            "loss": float(np.nanmean(losses)) if not np.all(np.isnan(losses)) else float("nan"),
            "loss_interval": interval(losses),
            "repetition": float(np.mean(reps)), "repetition_interval": interval(reps),
            "tokens": [len(a) for a in answers]}


def scored(lm, prompt_ids, by_setting: dict) -> dict:
    """``score`` of every setting's answers, ``{(concept, ...): answers}``, their losses computed together:
    the answers that settings share are scored once."""
    keys = list(by_setting)
    losses = answer_losses(lm, prompt_ids * len(keys), [a for k in keys for a in by_setting[k]])
    n = len(prompt_ids)
    return {k: score(lm, k[0], prompt_ids, by_setting[k], losses[i * n:(i + 1) * n]) for i, k in enumerate(keys)}


def human_answers(lm, prompts, prompt_ids, max_new_tokens: int) -> dict:
    """The people's answers, scored like the model's over the same window (their first tokens)."""
    ids = [lm.tokenizer(human, add_special_tokens=False).input_ids[:max_new_tokens] for _, human in prompts]
    return score(lm, None, prompt_ids, ids)


# --- what a chapter config needs before any answer -----------------------------------------------------

def written_rows(run: LanguageRun) -> tuple[np.ndarray, np.ndarray]:
    """Training tokens of the written sentences (sinks left out) and each one's concept label."""
    acts = run.acts
    labels = np.array(acts.meta["labels"] + [""])
    item = acts["item"]
    written = acts["item_source"][item] == 2
    rows = np.flatnonzero(run.keep & written & ~run.test)
    return rows, labels[acts["item_label"][item[rows]]]


@dataclass
class Levers:
    """What every steered generation of one chapter config reads: the SAE, the sink limit, and per concept
    the training AUC, the logit-lens score and the mean-difference direction of every feature."""
    sae: object
    limit: float  # the attention-sink cutoff: positions whose residual norm passes it are not edited
    median_norm: float
    max_activation: np.ndarray  # each feature's largest activation over the kept tokens
    unit_norm: np.ndarray  # the length a silent feature clamped to its largest activation adds
    per_concept: dict  # concept -> {"train_auc", "raises", "direction", "training_tokens"}


def levers(run: LanguageRun, lm, device, concepts) -> Levers:
    """The levers of the chapter's cached SAE."""
    return levers_from(run, run.sae(device), run.codes, lm, concepts)


def levers_from(run: LanguageRun, sae, codes, lm, concepts) -> Levers:
    """The levers of any SAE over the chapter's activations and that SAE's ``codes`` of them."""
    acts = run.acts
    keep = np.flatnonzero(run.keep)
    feature_max = codes.item_max(acts["item"][keep], len(acts["item_source"]), rows=keep)
    train_items = np.flatnonzero((acts["item_source"] == 2) & ~acts["item_test"].astype(bool))
    item_labels = np.array(acts.meta["labels"])[acts["item_label"][train_items]]
    largest = feature_max.max(0)
    decoder = sae.W_dec.detach().float().cpu().numpy()
    gain = lm.model.model.norm.weight.detach().float().cpu().numpy()
    unembed = lm.model.get_output_embeddings().weight.detach().float().cpu().numpy() * gain
    rows, row_labels = written_rows(run)
    lens = LogitLens(decoder, unembed)
    per_concept = {}
    for concept in concepts:
        word_ids = [lm.tokenizer(w, add_special_tokens=False).input_ids[0] for w in CONCEPT_WORDS[concept]]
        per_concept[concept] = {
            "train_auc": auc(feature_max[train_items], item_labels == concept),
            "raises": lens.raises(word_ids), "word_ids": word_ids,
            "direction": mean_difference(acts["resid"], rows, row_labels, concept).astype(np.float32),
            # how much of the SAE's training text is about the concept
            "training_tokens": int(np.sum(row_labels == concept)),
        }
    return Levers(sae, run.sink_limit, run.median_norm, largest, largest / float(sae.scale), per_concept)


def choose(lv: Levers, lm, layer: int, concept: str, recipe: Recipe, prompt_ids) -> dict:
    """The feature ``recipe.rule`` picks for ``concept`` (the output rule on ``prompt_ids``, training
    prompts only), with what the page says about it."""
    c = lv.per_concept[concept]
    train_auc, raises = c["train_auc"], c["raises"]
    output = None
    if recipe.rule == "detection":
        feature = int(np.argmax(train_auc))
    elif recipe.rule == "logit_lens":
        feature = choose_feature(train_auc, raises)
    else:
        tried = output_candidates(train_auc, raises, recipe.candidates)
        # each candidate at its own largest activation, as a silent feature clamped to 1× would add
        vectors = (lv.sae.W_dec[torch.from_numpy(tried)] / lv.sae.scale
                   * torch.from_numpy(lv.max_activation[tried]).float().to(lv.sae.W_dec.device)[:, None])
        output = output_scores(lm, layer, vectors, prompt_ids, c["word_ids"], lv.limit)
        feature = int(tried[np.argmax(output)])
        output = float(output.max())
    direction = c["direction"]
    decoder = lv.sae.W_dec[feature].detach().float().cpu().numpy()
    return {
        "feature": feature, "rule": recipe.rule, "train_auc": float(train_auc[feature]),
        "max_activation": float(lv.max_activation[feature]), "raises": float(raises[feature]),
        "output_score": output,
        "best_detector": int(np.argmax(train_auc)), "raises_best_detector": float(raises[int(np.argmax(train_auc))]),
        "raises_most": float(raises.max()), "raises_most_feature": int(np.argmax(raises)),
        "training_tokens": c["training_tokens"],
        "cosine": float(decoder @ direction / (np.linalg.norm(decoder) * np.linalg.norm(direction))),
        "unit_norm": float(lv.unit_norm[feature]), "direction_norm": float(np.linalg.norm(direction)),
        "direction": direction,
    }


def steered_answers(lm, lv: Levers, layer: int, choice: dict, method: str, strengths, prompt_ids,
                    recipe: Recipe, max_new_tokens: int, device) -> dict:
    """``{strength: answers}`` for every nonzero strength, all generated in one batch: row r is prompt
    r % n at strength r // n. One batch is faster than one per strength, and ``reproduce`` repeats it
    exactly, since a batch's shape can change the last bits of its arithmetic and so a greedy answer."""
    steered = [float(s) for s in strengths if s != 0]
    if not steered:
        return {}
    n = len(prompt_ids)
    edit = edit_for(lv.sae, choice, method, np.repeat(steered, n), device, recipe)
    positions = recipe.positions if method == "feature" else "all"
    with edited_residual(lm, layer, edit, lv.limit, positions):
        rows = generate(lm, prompt_ids * len(steered), max_new_tokens, recipe.repetition_penalty)
    return {s: rows[i * n:(i + 1) * n] for i, s in enumerate(steered)}


def unsteered_answers(lm, prompt_ids, recipe: Recipe, max_new_tokens: int):
    return generate(lm, prompt_ids, max_new_tokens, recipe.repetition_penalty)


# --- the chapter's run ---------------------------------------------------------------------------------

def run(config: SteeringConfig) -> Timeline:
    """The chapter's run: the recorded one (``records/*-steered.json``) where it was made with exactly this
    build's SAE, codes, code, settings and libraries (``recorded.py``), else ``measure``d here."""
    return recorded.matching(RECORDS, fingerprint(config)) or measure(config)


def fingerprint(config: SteeringConfig) -> dict:
    """What a record of ``measure(config)`` must have been made from to stand in for it here."""
    return recorded.fingerprint(config.chapter, key_for(measure, config, model_files(config.chapter.activations)))


@cached(data=lambda config: model_files(config.chapter.activations))
def measure(config: SteeringConfig) -> Timeline:
    """Every concept x method x strength answered on the held-out prompts and scored."""
    device = pick()
    started = time.perf_counter()
    lm = load(config.chapter.activations.model, device, config.chapter.activations.dtype)
    layer = config.chapter.activations.layer
    lv = levers(stages(config.chapter), lm, device, config.concepts)
    training_ids = [chat_ids(lm.tokenizer, p) for p, _ in TRAINING]
    chosen = {c: choose(lv, lm, layer, c, config.recipe, training_ids) for c in config.concepts}
    setup_s = time.perf_counter() - started
    prompt_ids = [chat_ids(lm.tokenizer, p) for p, _ in config.prompts]
    generation_started = time.perf_counter()
    human = human_answers(lm, config.prompts, prompt_ids, config.max_new_tokens)
    baseline = unsteered_answers(lm, prompt_ids, config.recipe, config.max_new_tokens)
    answers = {}
    for concept, method in bar([(c, m) for c in config.concepts for m in METHODS], desc="steered generations"):
        steered = steered_answers(lm, lv, layer, chosen[concept], method, config.strengths, prompt_ids,
                                  config.recipe, config.max_new_tokens, device)
        answers.update({(concept, method, s): baseline if s == 0 else steered[s] for s in config.strengths})
    generation_s = time.perf_counter() - generation_started
    scoring_started = time.perf_counter()
    settings = [{"concept": concept, "method": method, "strength": float(strength),
                 # the length of what the edit adds, against the residual stream's median length
                 "added_norm": float(strength * chosen[concept]["unit_norm"] / lv.median_norm), **found}
                for (concept, method, strength), found in scored(lm, prompt_ids, answers).items()]
    scoring_s = time.perf_counter() - scoring_started
    import transformers

    return Timeline(
        fixed={f"direction_{c}": chosen[c]["direction"] for c in config.concepts},
        meta={"config": asdict(config), "settings": settings, "human": human,
              "concept_names": {c: corpus.written_concepts()[c] for c in config.concepts},
              "features": {c: {k: v for k, v in chosen[c].items() if k != "direction"} for c in config.concepts},
              "layer": layer, "n_layers": lm.n_layers, "sink_limit": lv.limit, "median_norm": lv.median_norm,
              "model": lm.source.rsplit("/", 1)[-1], "generation_s": round(generation_s, 2),
              "scoring_s": round(scoring_s, 2),
              "setup_s": round(setup_s, 2),
              # the unsteered answers are generated once and shared by every strength-0 setting
              "n_generations": (sum(s != 0 for s in config.strengths) * len(config.concepts) * len(METHODS) + 1)
              * len(config.prompts),
              "total_s": round(time.perf_counter() - started, 2),
              "transformers": transformers.__version__, "run": describe(device)},
    )


def reproduce(concept: str, method: str, strength: float, config: SteeringConfig | None = None,
              prompts: list[str] | None = None):
    """Generate one setting again, as the book did: ``[(prompt, answer), ...]``; with ``prompts``, the
    reader's own prompts, steered with the book's feature, direction and recipe."""
    config = config or book_config()
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, not {method!r}")
    if concept not in config.concepts:
        raise ValueError(f"the book steers toward {list(config.concepts)}, not {concept!r}")
    done = run(config)  # the chosen features and directions: from the cache when the book was built
    device = pick()
    lm = load(config.chapter.activations.model, device, config.chapter.activations.dtype)
    sae = sae_from(train(config.chapter), device)
    lv = Levers(sae, done.meta["sink_limit"], done.meta["median_norm"], None, None, {})
    choice = dict(done.meta["features"][concept], direction=done[f"direction_{concept}"])
    texts = prompts or [p for p, _ in config.prompts]
    prompt_ids = [chat_ids(lm.tokenizer, p) for p in texts]
    layer = config.chapter.activations.layer
    if float(strength) == 0:
        answers = unsteered_answers(lm, prompt_ids, config.recipe, config.max_new_tokens)
    else:  # the book's prompts at a strength it ran come from the same batch as the book's
        same = prompts is None and float(strength) in map(float, config.strengths)
        batch = config.strengths if same else (float(strength),)
        answers = steered_answers(lm, lv, layer, choice, method, batch, prompt_ids, config.recipe,
                                  config.max_new_tokens, device)[float(strength)]
    return [(p, lm.tokenizer.decode(a, skip_special_tokens=True)) for p, a in zip(texts, answers)]
