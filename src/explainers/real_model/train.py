"""The real-model chapter's analysis, computed once from the shared stages (``lm.stages.stages``): the SAE's
standard measures (``measures``), detection of WordNet concepts by single units of four pools
(``pools``, ``compare``), automated interpretation with its floor (``interpret``), and the written second
test with its control sentences (``written``).

Every unit is chosen on training items and scored on held-out items.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..cache import cached
from ..device import describe, pick
from ..lm import corpus, explain, wordnet
from ..lm.activations import bos_id, model_files
from ..lm.model import load, reinitialise
from ..lm.stages import ChapterConfig, LanguageRun, stages, tiny_config, train
from ..recorder import latest_record
from ..timeline import Timeline
from .compare import BOOTSTRAP, TOP_SHARE, Problem, detection, matched, specificity
from .interpret import Text, interpret
from .measures import standard_measures
from .neurons import concept_neuron_values, neuron_token_values, sentence_maxima
from .pools import KINDS, direction_values, item_max_pools, residual_directions
from .written import (control_test, controls, feature_card, held_out_aucs, pet_features, polysemantic_neuron,
                      related, written_test)

__all__ = ["analyse", "recorded", "tiny_config", "train"]
RANDOM_UNITS = 128  # units drawn from each pool for the interpretability test (neurons: the store's own)
RECORDS = Path(__file__).resolve().parent / "records"


def recorded() -> dict:
    """The runs too long for a build, recorded with their device and date (``records/``)."""
    return {"scale": latest_record(RECORDS, "sae-scale"), "random_weights": latest_record(RECORDS, "random-weights")}


# --- helpers --------------------------------------------------------------------------------------------

def token_strings(tokenizer, ids: np.ndarray) -> np.ndarray:
    """Each token id decoded on its own (each distinct id once)."""
    unique, inverse = np.unique(ids, return_inverse=True)
    decoded = np.array([tokenizer.decode([int(i)]) for i in unique], dtype=object)
    return decoded[inverse]


def item_starts(item_of: np.ndarray, n_items: int) -> np.ndarray:
    """The first token row of every item (items' tokens are stored contiguously, in item order)."""
    return np.searchsorted(item_of, np.arange(n_items))


def words_by_token(strings: np.ndarray, starts: np.ndarray) -> np.ndarray:
    ends = np.append(starts[1:], len(strings))
    return np.concatenate([explain.token_words(list(strings[a:b])) for a, b in zip(starts, ends)])


def word_forms(texts: list[str]) -> list[set[str]]:
    """Each text's words and the forms its plurals may come from (``explain.base_forms``)."""
    return [{form for w in set(explain.LETTERS.findall(text.lower())) for form in explain.base_forms(w)}
            for text in texts]


def mentions(forms: list[set[str]], lemmas: set[str]) -> np.ndarray:
    """True for each text (its ``word_forms``) that names one of ``lemmas`` (whole words, plurals too)."""
    return np.array([not f.isdisjoint(lemmas) for f in forms], dtype=bool)


def concept_lemmas(root: str) -> set[str]:
    """Every single-word lemma of every synset at or below a concept's root synset."""
    table = wordnet.synsets()
    return {lemma.lower() for key in wordnet.below(root) for lemma in table[key].lemmas
            if "_" not in lemma}


@contextmanager
def timed(times: dict, name: str):
    started = time.perf_counter()
    yield
    times[name] = round(time.perf_counter() - started, 2)


# --- the analysis -----------------------------------------------------------------------------------------

@cached(data=lambda config: model_files(config.activations))
def analyse(config: ChapterConfig) -> Timeline:
    device, started, times = pick(), time.perf_counter(), {}
    run = stages(config)
    lm = load(config.activations.model, device, config.activations.dtype)
    if config.activations.weights == "random":  # the control: the same re-initialised weights as its activations
        reinitialise(lm, config.activations.seed)
    with timed(times, "measures_s"):
        metrics, density = standard_measures(run, lm, device, config.eval_items)
    directions = residual_directions(run.acts.meta["width"], config.sae.seed)
    with timed(times, "detection_s"):
        pools = item_max_pools(run, directions)
        problem, wn = wordnet_problem(run)
        wn_pools = {kind: pool[wn] for kind, pool in pools.items()}
        found = detection(wn_pools, problem, device, config.sae.seed)
        pool_matched = matched(found["aucs"], config.sae.seed)
    with timed(times, "specificity_s"):
        spec = specificity(wn_pools, problem, found["chosen"], about_matrix(run, problem, wn))
    del wn_pools
    strings = token_strings(lm.tokenizer, run.acts["token"])
    with timed(times, "written_s"):
        written = written_tests(run, lm, pools, strings, device)
    card_features = written["card_features"]
    if "dog" in problem.concepts:
        card_features = [("dogs (WordNet)", int(found["chosen"]["feature"][problem.concepts.index("dog")]))] + card_features
    with timed(times, "interpretation_s"):
        interpretation = interpretation_test(run, lm, pools, found["chosen"], [f for _, f in card_features],
                                             directions, strings, density, device)
    explained = {r["unit"]: r for r in interpretation if r["kind"] == "feature"}
    cards = [feature_card(f, why, run.codes, run.acts["item"], strings, density) | explanation_of(explained[f])
             for why, f in card_features]
    acts = run.acts
    meta = {
        "config": asdict(config), "metrics": metrics, "concepts": {c: corpus.CONCEPTS[c][0] for c in problem.concepts},
        "held_counts": dict(zip(problem.concepts, problem.y[problem.test].sum(0).tolist())),
        "train_counts": dict(zip(problem.concepts, problem.y[problem.train].sum(0).tolist())),
        "detection": found["records"], "paired": found["paired"], "matched": pool_matched,
        "matched_n": pool_matched["n"], "matched_draws": pool_matched["draws"], "bootstrap": BOOTSTRAP,
        "pool_sizes": {kind: int(pools[kind].shape[1]) for kind in KINDS},
        "specificity": spec, "top_share": TOP_SHARE, "interpretation": interpretation,
        "written_concepts": corpus.written_concepts(), "cards": cards,
        **{k: v for k, v in written.items() if k not in ("card_features", "latent_dog", "latent_cat")},
        "n_items": {"wordnet": int(len(wn)), "written": int(np.sum(acts["item_source"][acts["detection_items"]] == 2))},
        "times": times, "analysis_s": round(time.perf_counter() - started, 2), "run": describe(device),
    }
    return Timeline(fixed={"density": density, "latent_dog": written["latent_dog"], "latent_cat": written["latent_cat"],
                           "density_bins": run.trained["density_bins"]}, meta=meta)


def wordnet_problem(run: LanguageRun) -> tuple[Problem, np.ndarray]:
    """The WordNet items among the detection items (their positions in the pools), and the concepts with
    enough held-out items to test."""
    acts = run.acts
    det = acts["detection_items"]
    wn = np.flatnonzero(acts["item_source"][det] == 0)
    label_of, item_test = acts["item_label"][det[wn]], acts["item_test"][det[wn]].astype(bool)
    labels = acts.meta["labels"]
    minimum = run.config.activations.corpus.min_held_out
    concepts = [c for c in corpus.CONCEPTS if c in labels
                and np.sum((label_of == labels.index(c)) & item_test) >= minimum]
    y = np.stack([label_of == labels.index(c) for c in concepts], axis=1)
    return Problem(concepts, y, ~item_test, item_test), wn


def about_matrix(run: LanguageRun, problem: Problem, wn: np.ndarray) -> np.ndarray:
    """[WordNet items, concepts]: labelled with the concept, or naming one of its words."""
    items = corpus.items(run.config.activations.corpus)
    forms = word_forms([items[i].text for i in run.acts["detection_items"][wn]])
    roots = corpus.concept_roots()  # each root is looked up in WordNet's index once
    return np.stack([problem.y[:, j] | mentions(forms, concept_lemmas(roots[c])) for j, c in enumerate(problem.concepts)],
                    axis=1)


def explanation_of(record: dict) -> dict:
    return {"explanation": record["explanation"], "score": record["score"]}


def interpretation_test(run: LanguageRun, lm, pools: dict, chosen: dict, card_features: list[int],
                        directions: dict, strings: np.ndarray, density: np.ndarray, device) -> list[dict]:
    """Explain and score random units of every pool, each concept's chosen feature and neuron, and the
    feature cards' features, on the detection items' tokens."""
    acts, det = run.acts, run.acts["detection_items"]
    starts, ends = run.item_bounds()
    det_rows = np.concatenate([np.arange(starts[i], ends[i]) for i in det])
    det_starts = np.concatenate([[0], np.cumsum(ends[det] - starts[det])[:-1]])
    item_test = acts["item_test"].astype(bool)[det]
    text = Text(words_by_token(strings[det_rows], det_starts), det_starts, ~item_test, item_test,
                ~run.keep[det_rows], explain.Lexicon.from_wordnet(wordnet.synsets()))
    rng = np.random.default_rng(run.config.sae.seed)
    live = np.flatnonzero(density > 0)
    features = [(int(f), "random") for f in np.sort(rng.choice(live, min(RANDOM_UNITS, len(live)), replace=False))]
    features += [(int(f), "concept") for f in sorted(set(chosen["feature"].tolist()))]
    features += [(f, "card") for f in dict.fromkeys(card_features) if (f, "concept") not in features]
    out = interpret("feature", features, run.codes.columns([u for u, _ in features])[det_rows], text)

    neuron_max = pools["neuron"]
    concept_neurons = sorted(set(int(n) for n in chosen["neuron"]))
    values = np.concatenate([acts["neuron_tokens"][det_rows].astype(np.float32),
                             concept_neuron_values(lm, acts, concept_neurons, det, det_rows, neuron_max, ~item_test,
                                                   item_test, starts, ends, run.layer, lm.mlp_width, device)], axis=1)
    neurons = [(int(n), "random") for n in acts["neuron_ids"]] + [(n, "concept") for n in concept_neurons]
    # the second pass covered only the items the explanation and score read: the maxima come from the store
    maxima = {n: neuron_max[:, n].astype(np.float32) for n in concept_neurons}
    out += interpret("neuron", neurons, values, text, maxima)

    for kind, d in directions.items():
        units = np.sort(rng.choice(2 * d.shape[1], RANDOM_UNITS, replace=False))
        out += interpret(kind, [(int(u), "random") for u in units], direction_values(acts["resid"], det_rows, d, units), text)
    return out


def written_tests(run: LanguageRun, lm, pools: dict, strings: np.ndarray, device) -> dict:
    """The written sentences: Apple's two senses and the Golden Gate Bridge (best unit of each kind), the
    neuron for two unrelated concepts with its control test, and the dog and cat features."""
    acts, det = run.acts, run.acts["detection_items"]
    w = np.flatnonzero(acts["item_source"][det] == 2)
    labels = np.array([acts.meta["labels"][acts["item_label"][i]] for i in det[w]])
    test = acts["item_test"].astype(bool)[det[w]]
    scores = {"feature": pools["feature"][w], "neuron": pools["neuron"][w].astype(np.float32)}
    second = written_test(scores, labels, test)
    table = controls()
    group_names = list(table["groups"])
    sentences = [s for g in group_names for s in table["groups"][g]["sentences"]]
    neuron_ctrl, feature_ctrl = sentence_maxima(lm, run, sentences, device)
    group_of = np.repeat(group_names, [len(table["groups"][g]["sentences"]) for g in group_names])

    def controls_for(kind, unit, concepts):
        ctrl = (neuron_ctrl if kind == "neuron" else feature_ctrl)[:, unit]
        return control_test(scores[kind][:, unit], labels, test, {g: ctrl[group_of == g] for g in group_names},
                            concepts, table)

    names = list(corpus.written_concepts())
    choices = {}
    for rule, allowed in (("families apart", lambda a, b: corpus.FAMILIES.get(a, a) != corpus.FAMILIES.get(b, b)),
                          ("unrelated", lambda a, b: not related(a, b, table["related"]))):
        poly = polysemantic_neuron(scores["neuron"][~test], labels[~test], names, allowed)
        poly["test_auc"] = held_out_aucs(scores["neuron"][:, poly["unit"]], labels, test, poly["concepts"])
        poly["controls"] = controls_for("neuron", poly["unit"], poly["concepts"])
        poly["layer"], poly["index"] = map(int, divmod(poly["unit"], lm.mlp_width))
        choices[rule] = poly
    poly = choices["unrelated"]
    poly["sentences"] = polysemantic_sentences(run, lm, poly, det[w], labels, test, strings, device)
    for concept in ("golden_gate", "apple_company", "apple_fruit"):
        second[f"{concept}_feature"]["controls"] = controls_for("feature", second[f"{concept}_feature"]["unit"], [concept])
    pets = pet_features(scores["feature"][~test], labels[~test])
    dog_i, cat_i = (int(det[w][test & (labels == c)][0]) for c in ("dog", "cat"))
    items = corpus.items(run.config.activations.corpus)
    return {"second": second, "polysemantic": poly, "first_polysemantic": choices["families apart"],
            "pets": pets, "pet_sentences": {"dog": items[dog_i].text, "cat": items[cat_i].text},
            "n_written_test": int(test.sum()),
            "latent_dog": pools["feature"][np.flatnonzero(det == dog_i)[0]],
            "latent_cat": pools["feature"][np.flatnonzero(det == cat_i)[0]],
            "card_features": [(f"{corpus.written_concepts()[c]} (written)", second[f"{c}_feature"]["unit"])
                              for c in ("golden_gate", "apple_fruit", "apple_company")]}


def polysemantic_sentences(run: LanguageRun, lm, poly: dict, written: np.ndarray, labels: np.ndarray,
                           test: np.ndarray, strings: np.ndarray, device) -> list[dict]:
    """The neuron on four held-out sentences of each of its concepts and one of each other topic."""
    a, b = poly["concepts"]
    shown = [int(i) for c in (a, b) for i in written[test & (labels == c)][:4]]
    shown += [int(written[test & (labels == c)][0]) for c in corpus.written_concepts() if c not in (a, b)][:4]
    starts, ends = run.item_bounds()
    bos = bos_id(lm.tokenizer)
    values = neuron_token_values(lm, [[bos, *map(int, run.acts["token"][starts[i]:ends[i]])] for i in shown],
                                 [poly["unit"]], lm.mlp_width, device)
    label_names = run.acts.meta["labels"]
    return [{"label": label_names[run.acts["item_label"][i]], "tokens": list(strings[starts[i]:ends[i]]),
             "values": [round(float(x), 3) for x in v[:, 0]]} for i, v in zip(shown, values)]
