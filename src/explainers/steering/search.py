"""The search for a steering recipe, on the training prompts only.

One factor at a time from the starting recipe (block 12, the logit-lens feature, clamped, at every
position, plain greedy decoding): the SAE's layer, the feature rule, clamp or add, the positions, and a
repetition penalty, each at the same finer grid of strengths. A variant is ranked by its steering score
(``words.steering_score``: the most answers that mention the concept at any strength that stays as fluent
as the human answers), summed over the concepts. The combined recipe takes each factor's best level (the
starting level on a tie) and is run too. ``benchmarks/steering_search.py`` runs it and writes the record
that the chapter shows and whose choice the chapter's config carries.

``strength_curves`` runs the combined recipe again on more prompts (``words.STRENGTH_PROMPTS``): 16 answers
per strength could not tell strengths apart, so the headline strengths are chosen on those curves
(``benchmarks/steering_strengths.py``).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

from ..device import describe, pick
from ..lm.model import load
from ..lm.stages import ChapterConfig, book_config as chapter_config, stages
from .train import Recipe, chat_ids, choose, human_answers, levers, scored, steered_answers, unsteered_answers
from .words import METHODS, STRENGTH_PROMPTS, TRAINING, steering_score, works

LATER_LAYER = 20  # of 30: two thirds of the way, where Arad et al. find output features
FACTORS = {  # the starting level first
    "rule": ("logit_lens", "detection", "output"),
    "edit": ("clamp", "add"),
    "positions": ("all", "answer"),
    "repetition_penalty": (1.0, 1.2),  # θ ≈ 1.2 with greedy decoding: Keskar et al. 2019
}
STRENGTHS = (1, 1.5, 2, 2.5, 3, 4, 6, 8)


@dataclass(frozen=True)
class Variant:
    name: str
    layer: int
    recipe: Recipe
    method: str = "feature"


def one_at_a_time(base_layer: int) -> list[Variant]:
    start = Recipe()
    variants = [Variant("start", base_layer, start), Variant(f"block {LATER_LAYER}", LATER_LAYER, start)]
    for factor, levels in FACTORS.items():
        variants += [Variant(f"{factor} = {level}", base_layer, replace(start, **{factor: level}))
                     for level in levels[1:]]
    variants.append(Variant("mean-difference direction", base_layer, start, method="direction"))
    return variants


def chapter_at(layer: int, device: str) -> ChapterConfig:
    book = chapter_config(device)
    return replace(book, activations=replace(book.activations, layer=layer))


def evaluate(variant: Variant, chapter: ChapterConfig, lm, concepts, strengths, max_new_tokens: int,
             device, state: dict, prompts=TRAINING) -> dict:
    """Every concept at every strength on ``prompts``, scored against the people's answers to them. The
    feature is chosen on the training prompts whatever ``prompts`` are, as the book's run chooses it."""
    key = (variant.layer, variant.recipe.repetition_penalty)
    if variant.layer not in state:
        state[variant.layer] = levers(stages(chapter), lm, device, concepts)
    lv = state[variant.layer]
    prompt_ids = [chat_ids(lm.tokenizer, p) for p, _ in prompts]
    choice_ids = [chat_ids(lm.tokenizer, p) for p, _ in TRAINING]
    if key not in state:  # the unsteered answers depend on the decoding only
        state[key] = unsteered_answers(lm, prompt_ids, variant.recipe, max_new_tokens)
    if "human" not in state:  # the people's answers, scored once
        state["human"] = human_answers(lm, prompts, prompt_ids, max_new_tokens)
    human = state["human"]
    out = {"layer": variant.layer, "recipe": asdict(variant.recipe), "method": variant.method, "concepts": {}}
    for concept in concepts:
        choice = choose(lv, lm, variant.layer, concept, variant.recipe, choice_ids)
        answers = {0.0: state[key]} | steered_answers(lm, lv, variant.layer, choice, variant.method, strengths,
                                                      prompt_ids, variant.recipe, max_new_tokens, device)
        settings = [{"strength": s, **found} for (_, s), found in
                    scored(lm, prompt_ids, {(concept, s): a for s, a in answers.items()}).items()]
        working = [s["strength"] for s in settings if s["strength"] > 0 and works(s, human)]
        out["concepts"][concept] = {
            "feature": {k: v for k, v in choice.items() if k != "direction"},
            "settings": settings, "score": steering_score(settings, human),
            "working_strengths": working,
        }
    out["score"] = sum(c["score"] for c in out["concepts"].values())
    return out


def search(concepts=("golden_gate", "dog"), strengths=STRENGTHS, max_new_tokens: int = 24, layer: int = 12,
           log=print) -> dict:
    device = pick()
    started = time.perf_counter()
    chapter = chapter_at(layer, device.type)
    lm = load(chapter.activations.model, device, chapter.activations.dtype)
    state: dict = {}
    results = {}
    for variant in one_at_a_time(layer):
        begun = time.perf_counter()
        results[variant.name] = evaluate(variant, chapter_at(variant.layer, device.type), lm, concepts, strengths,
                                         max_new_tokens, device, state)
        results[variant.name]["seconds"] = round(time.perf_counter() - begun, 1)
        log(f"{variant.name}: score {results[variant.name]['score']:.2f} "
            f"({results[variant.name]['seconds']:.0f} s)")
    best_layer = LATER_LAYER if results[f"block {LATER_LAYER}"]["score"] > results["start"]["score"] else layer
    levels = {}
    for factor, options in FACTORS.items():
        scored = [(results["start"]["score"], options[0])] + [
            (results[f"{factor} = {level}"]["score"], level) for level in options[1:]]
        levels[factor] = max(scored, key=lambda t: t[0])[1]  # the first (starting) level on a tie
    combined = Variant("combined", best_layer, replace(Recipe(), **levels))
    results["combined"] = evaluate(combined, chapter_at(best_layer, device.type), lm, concepts, strengths,
                                   max_new_tokens, device, state)
    results["combined direction"] = evaluate(replace(combined, name="combined direction", method="direction"),
                                             chapter_at(best_layer, device.type), lm, concepts, strengths,
                                             max_new_tokens, device, state)
    human = state["human"]
    import transformers

    return {"variants": results, "human": human, "layer": best_layer, "recipe": asdict(combined.recipe),
            "strengths": list(strengths), "max_new_tokens": max_new_tokens,
            "prompts": [p for p, _ in TRAINING], "methods": list(METHODS), "factors": {k: list(v) for k, v in FACTORS.items()},
            "seconds": round(time.perf_counter() - started, 1), "transformers": transformers.__version__,
            "run": describe(device)}


def strength_curves(search_record: dict, prompts=STRENGTH_PROMPTS, log=print) -> dict:
    """The recorded search's combined recipe, its feature and its mean-difference direction, at the search's
    strengths on ``prompts``: the curves ``train.chosen_strengths`` takes the headline strengths from. The
    record has the search record's layout, with the search it follows named."""
    device = pick()
    started = time.perf_counter()
    layer, recipe = search_record["layer"], Recipe(**search_record["recipe"])
    concepts = tuple(search_record["variants"]["combined"]["concepts"])
    chapter = chapter_at(layer, device.type)
    lm = load(chapter.activations.model, device, chapter.activations.dtype)
    state: dict = {}
    results = {}
    for name, method in (("combined", "feature"), ("combined direction", "direction")):
        begun = time.perf_counter()
        results[name] = evaluate(Variant(name, layer, recipe, method), chapter, lm, concepts,
                                 search_record["strengths"], search_record["max_new_tokens"], device, state, prompts)
        log(f"{name}: {time.perf_counter() - begun:.0f} s")
    import transformers

    return {"variants": results, "human": state["human"], "layer": layer, "recipe": asdict(recipe),
            "strengths": search_record["strengths"], "max_new_tokens": search_record["max_new_tokens"],
            "prompts": [p for p, _ in prompts], "search": search_record["provenance"],
            "seconds": round(time.perf_counter() - started, 1), "transformers": transformers.__version__,
            "run": describe(device)}
