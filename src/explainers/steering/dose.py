"""What it would take for the book's SAE to hold a feature that steers toward the Golden Gate Bridge.

Templeton et al. (2024) found that whether a concept gets its own feature depends on how often it
occurs in the SAE's training text and on how many features the dictionary has. This experiment turns the
first knob: the SAE reads the book's training text plus a dose of text about the bridge (the model's own
sampled answers to questions about the bridge, kept apart from every evaluation prompt), is trained again
exactly as the chapter trains it, and the chapter's recipe picks and steers its feature: the strength on
the training prompts, the verdict on the held-out prompts.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ..lm.activations import encode, padded
from ..lm.edit import edited_residual
from ..lm.codes import SparseCodes, encode as encode_codes
from ..lm.sae import train_sae
from ..lm.stages import stages
from .search import STRENGTHS
from .train import Recipe, chat_ids, choose, human_answers, left_padded, levers_from, score, scored, steered_answers
from .words import HELD_OUT, TRAINING, headline_strength, mentions, works

CONCEPT = "golden_gate"
# Questions written for this experiment: the answers are the dose, never an evaluation prompt.
QUESTIONS = (
    "Tell me about the Golden Gate Bridge.",
    "What colour is the Golden Gate Bridge, and why?",
    "How long is the Golden Gate Bridge?",
    "When was the Golden Gate Bridge built?",
    "Describe a walk across the Golden Gate Bridge.",
    "Why is the Golden Gate Bridge famous?",
    "What can you see from the Golden Gate Bridge?",
    "How was the Golden Gate Bridge built?",
    "Write a short poem about the Golden Gate Bridge.",
    "What is the weather like at the Golden Gate Bridge?",
    "Plan a day in San Francisco that includes the Golden Gate Bridge.",
    "Who designed the Golden Gate Bridge?",
)
DOSES = (0, 2_000, 8_000, 32_000)  # extra tokens about the bridge in the SAE's training text


@torch.no_grad()
def bridge_answers(lm, tokens: int, seed: int = 0, batch: int = 64, max_new_tokens: int = 96) -> list[str]:
    """Sampled answers (temperature 0.8) to the questions, those that mention the bridge, until they
    hold at least ``tokens`` tokens."""
    torch.manual_seed(seed)
    tok = lm.tokenizer
    device = next(lm.model.parameters()).device
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    kept, total = [], 0
    while total < tokens:
        prompts = [chat_ids(tok, QUESTIONS[i % len(QUESTIONS)]) for i in range(batch)]
        ids, attention = left_padded(prompts, pad)
        out = lm.model.generate(input_ids=ids.to(device), attention_mask=attention.to(device), do_sample=True,
                                temperature=0.8, max_new_tokens=max_new_tokens, pad_token_id=pad)
        for row in out[:, ids.shape[1]:].tolist():
            cut = next((i for i, t in enumerate(row) if t in (tok.eos_token_id, pad)), len(row))
            text = tok.decode(row[:cut], skip_special_tokens=True).strip()
            if mentions(CONCEPT, text):
                kept.append(text)
                total += cut
    return kept


@torch.no_grad()
def residuals(lm, texts: list[str], layer: int, limit: float, batch: int = 32) -> np.ndarray:
    """The residual after ``layer`` blocks at every token of the texts (BOS and sinks left out)."""
    device = next(lm.model.parameters()).device
    caught, rows = {}, []

    def capture(x):
        caught["x"] = x
        return x

    for start in range(0, len(texts), batch):
        encoded = encode(lm.tokenizer, texts[start:start + batch])
        ids, attention = padded(encoded)
        with edited_residual(lm, layer, capture, float("inf")):
            lm.model.model(input_ids=ids.to(device), attention_mask=attention.to(device), use_cache=False)
        for i, r in enumerate(encoded):
            h = caught["x"][i, 1:len(r)]
            rows.append(h[h.norm(dim=-1) < limit].cpu().numpy())
    return np.concatenate(rows)


def dosed_run(lm, chapter, recipe: Recipe, extra: np.ndarray, device, log=print) -> dict:
    """Train the chapter's SAE on its training text plus ``extra`` rows, then pick and steer its feature."""
    started = time.perf_counter()
    run = stages(chapter)
    acts, keep, test = run.acts, run.keep, run.test
    resid = torch.from_numpy(acts["resid"].astype(np.float32))
    pool = torch.cat([resid[torch.from_numpy(np.flatnonzero(keep & ~test))], torch.from_numpy(extra)])
    if len(extra):
        sae, curves, info = train_sae(pool, chapter.sae, device)
        sae = sae.eval().requires_grad_(False)
        codes = SparseCodes(*encode_codes(sae, acts["resid"], device), chapter.sae.d_sae)
        explained = float(curves["explained_variance"][-1])
    else:  # no dose: the chapter's own SAE, as cached
        sae, codes, info = run.sae(device), run.codes, {"train_s": run.trained.meta["train_s"]}
        explained = float(run.trained["explained_variance"][-1])
    lv = levers_from(run, sae, codes, lm, [CONCEPT])
    layer = chapter.activations.layer
    training_ids = [chat_ids(lm.tokenizer, p) for p, _ in TRAINING]
    held_ids = [chat_ids(lm.tokenizer, p) for p, _ in HELD_OUT]
    choice = choose(lv, lm, layer, CONCEPT, recipe, training_ids)
    human_train = human_answers(lm, TRAINING, training_ids, 24)
    answers = steered_answers(lm, lv, layer, choice, "feature", STRENGTHS, training_ids, recipe, 24, device)
    settings = [{"strength": s, **found} for (_, s), found in
                scored(lm, training_ids, {(CONCEPT, s): a for s, a in answers.items()}).items()]
    strength = headline_strength(settings, human_train)
    held = None
    if strength is not None:
        human_held = human_answers(lm, HELD_OUT, held_ids, 24)
        a = steered_answers(lm, lv, layer, choice, "feature", (strength,), held_ids, recipe, 24, device)[strength]
        held = {"strength": strength, **score(lm, CONCEPT, held_ids, a)}
        held["works"] = works(held, human_held)
    alive = int((codes.density(np.flatnonzero(keep & ~test)) > 0).sum())
    log(f"dose {len(extra):,}: feature #{choice['feature']}, strength {strength}, "
        f"held-out {held['mention_fraction'] if held else None} ({time.perf_counter() - started:.0f} s)")
    return {"extra_tokens": int(len(extra)), "pool_tokens": int(len(pool)), "alive_features": alive,
            "explained_variance": explained,
            "feature": {k: v for k, v in choice.items() if k != "direction"},
            "training": [{k: s[k] for k in ("strength", "mention_fraction", "loss", "repetition")} for s in settings],
            "strength": strength, "held_out": held, "seconds": round(time.perf_counter() - started, 1), **info}


def dose_response(chapter, recipe: Recipe, doses=DOSES, log=print) -> dict:
    from ..device import describe, pick
    from ..lm.model import load

    device = pick()
    started = time.perf_counter()
    lm = load(chapter.activations.model, device, chapter.activations.dtype)
    limit = stages(chapter).sink_limit
    texts = bridge_answers(lm, max(doses))
    extra = residuals(lm, texts, chapter.activations.layer, limit)
    log(f"{len(texts)} answers about the bridge, {len(extra):,} tokens ({time.perf_counter() - started:.0f} s)")
    runs = [dosed_run(lm, chapter, recipe, extra[:dose], device, log) for dose in doses]
    import transformers

    return {"questions": list(QUESTIONS), "examples": texts[:3], "answers": len(texts), "runs": runs,
            "layer": chapter.activations.layer, "d_sae": chapter.sae.d_sae, "recipe": recipe.__dict__,
            "seconds": round(time.perf_counter() - started, 1), "transformers": transformers.__version__,
            "run": describe(device)}
