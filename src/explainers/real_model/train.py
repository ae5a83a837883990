"""The real-model chapter's analysis, computed once from the shared stages (``lm.stages``): the SAE's
standard measures, detection of WordNet concepts by single features and single neurons (as-is and
pool-matched), the written second test (Apple the fruit or the company, the Golden Gate Bridge, dogs and
cats, a polysemantic neuron), automated interpretation of random and concept units, and specificity.

Every unit is chosen on training items and scored on held-out items.
"""
from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick
from ..progress import bar
from ..timeline import Timeline
from ..lm import corpus, explain, wordnet
from ..lm.activations import collect, model_files, padded
from ..lm.model import load
from ..sae_measures import ce_loss_recovered, dead_fraction, dense_fraction
from ..lm.stages import ChapterConfig, book_config, kept_tokens, sae_from, sparse_codes, tiny_config, token_test, train
from ..lm.detection import auc, auc_matrix, best_units, bootstrap_interval, pool_matched, ranks, top_share

MATCHED_N = 1024  # pool-matched comparison: the best of this many random units from each pool
MATCHED_DRAWS = 50
BOOTSTRAP = 1000
RANDOM_FEATURES = 128  # live features drawn for the interpretability test (the neurons: all recorded)
SNIPPETS = 5
WINDOW = (10, 4)  # tokens shown before and after a snippet's peak
TOP_SHARE = 0.01  # specificity: the top 1 % of items by activation
DENSE_CUTOFF = 0.1  # a latent firing on more than 10 % of tokens counts as dense (the usual cut-off)


def runs(config: ChapterConfig | None = None):
    """The chapter's runs, from the cache when nothing changed: ``(trained SAE, analysis)``."""
    config = config or book_config()
    return train(config), analyse(config)


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


def mentions(texts: list[str], lemmas: set[str]) -> np.ndarray:
    """True for each text that names one of ``lemmas`` (whole words, plurals too)."""
    out = []
    for text in texts:
        words = set(explain._LETTERS.findall(text.lower()))
        out.append(any(form in lemmas for w in words for form in explain.base_forms(w)))
    return np.array(out)


def concept_lemmas(label: str) -> set[str]:
    """Every single-word lemma of every synset at or below the concept's root."""
    table = wordnet.synsets()
    return {lemma.lower() for key in wordnet.below(corpus.concept_roots()[label]) for lemma in table[key].lemmas
            if "_" not in lemma}


# --- the analysis -----------------------------------------------------------------------------------------

@cached(data=lambda config: model_files(config.activations))
def analyse(config: ChapterConfig) -> Timeline:
    device = pick()
    started, times = time.perf_counter(), {}
    acts = collect(config.activations)
    trained = train(config)
    codes = sparse_codes(config)
    sae = sae_from(trained, device)
    layer, mlp_width = config.activations.layer, acts.meta["mlp_width"]
    keep = kept_tokens(acts)
    test_token = token_test(acts)
    item_of = acts["item"]
    source, label_of, item_test = acts["item_source"], acts["item_label"], acts["item_test"].astype(bool)
    labels = acts.meta["labels"]
    n_items = len(source)
    items = corpus.items(config.activations.corpus)  # the texts, in the store's order

    # 1. the standard measures, on held-out tokens
    held = np.flatnonzero(keep & test_token)
    density = codes.density(np.flatnonzero(keep))
    metrics = {"l0": codes.l0(held), "dead_fraction": float(dead_fraction(density)),
               "dense_fraction": float(dense_fraction(density, DENSE_CUTOFF)), "dense_cutoff": DENSE_CUTOFF, "held_out_tokens": int(len(held)),
               "density_tokens": int(keep.sum()),
               "explained_variance": held_out_explained_variance(sae, acts["resid"], held, codes, device)}

    # 2. next-token loss with the SAE spliced in, on held-out items of general text
    lm = load(config.activations.model, device, config.activations.dtype)
    starts = item_starts(item_of, n_items)
    ends = np.append(starts[1:], len(item_of))
    bos = lm.tokenizer.bos_token_id if lm.tokenizer.bos_token_id is not None else lm.tokenizer.eos_token_id
    general = [i for i in range(n_items) if item_test[i] and source[i] != 2][: config.eval_items]
    sequences = [[bos, *map(int, acts["token"][starts[i]:ends[i]])] for i in general]
    limit = float(np.median(np.linalg.norm(acts["resid"][::97].astype(np.float32), axis=1)) * 10.0)
    losses, loss_tokens = spliced_losses(lm, layer, sequences, lambda h: sae(h.float()).to(h.dtype), device, limit)
    metrics |= {"ce_loss_clean": losses["clean"], "ce_loss_sae": losses["sae"], "ce_loss_zero": losses["zero"],
                "ce_loss_recovered": ce_loss_recovered(losses["clean"], losses["sae"], losses["zero"]),
                "delta_ce": losses["sae"] - losses["clean"], "loss_tokens": loss_tokens}
    times["measures_s"] = time.perf_counter() - started

    # item-level scores: each feature's and each neuron's largest activation over an item
    kept_rows = np.flatnonzero(keep)
    feature_max = codes.item_max(item_of[kept_rows], n_items, rows=kept_rows)
    det = acts["detection_items"]  # items with neuron maxima, in order
    neuron_max = acts["neuron_max"]  # [len(det), layer * mlp_width]
    det_row = np.full(n_items, -1)
    det_row[det] = np.arange(len(det))

    # 3. detection of WordNet concepts
    t = time.perf_counter()
    wn = det[source[det] == 0]
    concepts = [c for c in corpus.CONCEPTS if c in labels
                and np.sum((label_of[wn] == labels.index(c)) & item_test[wn]) >= config.activations.corpus.min_held_out]
    y = np.stack([label_of[wn] == labels.index(c) for c in concepts], axis=1)
    tr, te = ~item_test[wn], item_test[wn]
    pools = {"feature": feature_max[wn], "neuron": neuron_max[det_row[wn]]}
    aucs = {kind: (auc_matrix(s[tr], y[tr], device=device), auc_matrix(s[te], y[te], device=device))
            for kind, s in pools.items()}
    detection = []
    chosen = {}
    for kind, (train_auc, test_auc) in aucs.items():
        units, held_auc = best_units(train_auc, test_auc)
        chosen[kind] = units
        for j, c in enumerate(concepts):
            low, high = bootstrap_interval(pools[kind][te][:, units[j]].astype(np.float32), y[te, j], BOOTSTRAP, seed=j)
            detection.append({"concept": c, "kind": kind, "unit": int(units[j]), "train_auc": float(train_auc[j, units[j]]),
                              "auc": float(held_auc[j]), "low": low, "high": high})
    matched_n = min(MATCHED_N, *(s.shape[1] for s in pools.values()))
    matched = {kind: pool_matched(train_auc, test_auc, matched_n, MATCHED_DRAWS, config.sae.seed)
               for kind, (train_auc, test_auc) in aucs.items()}
    held_counts = {c: int(y[te, j].sum()) for j, c in enumerate(concepts)}
    train_counts = {c: int(y[tr, j].sum()) for j, c in enumerate(concepts)}
    times["detection_s"] = time.perf_counter() - t

    # 4. specificity: of each chosen unit's top 1 % of WordNet items, the share about its concept
    t = time.perf_counter()
    texts = [items[i].text for i in wn]
    specificity = []
    for j, c in enumerate(concepts):
        about = y[:, j] | mentions(texts, concept_lemmas(c))
        for kind in pools:
            unit = chosen[kind][j]
            specificity.append({"concept": c, "kind": kind, "unit": int(unit),
                                "share": top_share(pools[kind][:, unit].astype(np.float32), about, TOP_SHARE),
                                "labelled_share": top_share(pools[kind][:, unit].astype(np.float32), y[:, j], TOP_SHARE),
                                "base_rate": float(about.mean())})
    times["specificity_s"] = time.perf_counter() - t

    # 5. automated interpretation of random units and of each concept's chosen units, on detection items
    t = time.perf_counter()
    strings = token_strings(lm.tokenizer, acts["token"])
    det_rows = np.concatenate([np.arange(starts[i], ends[i]) for i in det])
    det_starts = np.concatenate([[0], np.cumsum(ends[det] - starts[det])[:-1]])
    words = words_by_token(strings[det_rows], det_starts)
    lexicon = explain.Lexicon.from_wordnet(wordnet.synsets())
    det_train, det_test = ~item_test[det], item_test[det]
    silent = ~keep[det_rows]  # attention sinks count as silence
    rng = np.random.default_rng(config.sae.seed)
    live = np.flatnonzero(density > 0)
    random_features = np.sort(rng.choice(live, size=min(RANDOM_FEATURES, len(live)), replace=False))
    feature_units = [(int(f), "random") for f in random_features] + [(int(f), "concept") for f in sorted(set(chosen["feature"]))]
    feature_values = codes.columns([u for u, _ in feature_units])[det_rows]
    neuron_ids = acts["neuron_ids"]
    concept_neurons = sorted(set(int(n) for n in chosen["neuron"]))
    neuron_values = np.concatenate([acts["neuron_tokens"][det_rows].astype(np.float32),
                                    concept_neuron_values(lm, acts, concept_neurons, det, det_rows, neuron_max,
                                                          det_train, det_test, starts, ends, layer, mlp_width,
                                                          device)], axis=1)
    neuron_units = [(int(n), "random") for n in neuron_ids] + [(n, "concept") for n in concept_neurons]
    interpretation = []
    for kind, units, values in (("feature", feature_units, feature_values), ("neuron", neuron_units, neuron_values)):
        for column, (unit, why) in enumerate(bar(units, desc=f"explaining {kind}s")):
            v = np.where(silent, 0.0, values[:, column]).astype(np.float32)
            maxima = explain.item_maxima(v, det_starts)
            if kind == "neuron" and why == "concept":
                maxima = neuron_max[:, unit].astype(np.float32)  # the second pass covered only the items used
            explanation = explain.explain(v, words, det_starts, explain.top_items(maxima, det_train), lexicon)
            evaluation = explain.evaluation_items(maxima, det_test, seed=unit)
            interpretation.append({"kind": kind, "why": why, "unit": unit, "explanation": explanation.text(),
                                   "words": list(explanation.words), "category": explanation.category,
                                   "score": explain.score(explanation, v, words, det_starts, evaluation, lexicon)})
    times["interpretation_s"] = time.perf_counter() - t

    # 6. the written second test: Apple's two senses, the Golden Gate Bridge, dogs and cats
    t = time.perf_counter()
    written = det[source[det] == 2]
    w_labels = np.array([labels[label_of[i]] for i in written])
    w_test = item_test[written]
    w_scores = {"feature": feature_max[written], "neuron": neuron_max[det_row[written]].astype(np.float32)}
    second = written_test(w_scores, w_labels, w_test)
    poly = polysemantic_neuron(w_scores["neuron"][~w_test], w_labels[~w_test], list(corpus.written_concepts()))
    a, b = poly["concepts"]
    for concept in (a, b):
        mask = w_test & ~np.isin(w_labels, [x for x in (a, b) if x != concept])
        poly.setdefault("test_auc", {})[concept] = float(auc(w_scores["neuron"][mask][:, [poly["unit"]]],
                                                             w_labels[mask] == concept)[0])
    neuron_layer, neuron_index = divmod(poly["unit"], mlp_width)
    shown = [i for c in (a, b) for i in written[w_test & (w_labels == c)][:4]]
    shown += [int(written[w_test & (w_labels == c)][0]) for c in corpus.written_concepts() if c not in (a, b)][:4]
    values = neuron_token_values(lm, [[bos, *map(int, acts["token"][starts[i]:ends[i]])] for i in shown],
                                 [poly["unit"]], mlp_width, device)
    poly["sentences"] = [{"label": items[i].label, "tokens": list(strings[starts[i]:ends[i]]),
                          "values": [round(float(x), 3) for x in v[:, 0]]} for i, v in zip(shown, values)]
    poly |= {"layer": int(neuron_layer), "index": int(neuron_index)}
    pets = pet_features(w_scores["feature"][~w_test], w_labels[~w_test])
    dog_i = int(written[w_test & (w_labels == "dog")][0])
    cat_i = int(written[w_test & (w_labels == "cat")][0])

    # 7. feature cards: the WordNet dog feature, and the written test's Golden Gate and Apple features
    card_features = [("dogs (WordNet)", int(chosen["feature"][concepts.index("dog")]))] if "dog" in concepts else []
    card_features += [(f"{corpus.written_concepts()[c]} (written)", second[f"{c}_feature"]["unit"])
                      for c in ("golden_gate", "apple_fruit", "apple_company")]
    cards = [feature_card(f, why, codes, item_of, strings, density) for why, f in card_features]
    times["written_s"] = time.perf_counter() - t

    meta = {
        "config": asdict(config), "metrics": metrics, "concepts": {c: corpus.CONCEPTS[c][0] for c in concepts},
        "held_counts": held_counts, "train_counts": train_counts, "detection": detection,
        "matched": {kind: {"per_draw_mean": m.mean(1).tolist(), "per_concept_mean": m.mean(0).tolist()}
                    for kind, m in matched.items()},
        "matched_n": matched_n, "matched_draws": MATCHED_DRAWS, "bootstrap": BOOTSTRAP,
        "pool_sizes": {kind: int(s.shape[1]) for kind, s in pools.items()},
        "specificity": specificity, "top_share": TOP_SHARE, "interpretation": interpretation,
        "second": second, "written_concepts": corpus.written_concepts(), "polysemantic": poly, "pets": pets,
        "pet_sentences": {"dog": items[dog_i].text, "cat": items[cat_i].text}, "cards": cards,
        "n_items": {"wordnet": int(len(wn)), "written": int(len(written))},
        "n_written_test": int(w_test.sum()),
        "times": {k: round(v, 2) for k, v in times.items()},
        "analysis_s": round(time.perf_counter() - started, 2), "run": describe(device),
    }
    return Timeline(fixed={"density": density, "latent_dog": feature_max[dog_i], "latent_cat": feature_max[cat_i],
                           "density_bins": trained["density_bins"]}, meta=meta)


@torch.no_grad()
def held_out_explained_variance(sae, resid: np.ndarray, rows: np.ndarray, codes, device, chunk: int = 8192) -> float:
    """Explained variance over ``rows``, summed chunk by chunk (the mean from the same rows)."""
    mean = np.zeros(resid.shape[1])
    for start in range(0, len(rows), chunk):
        mean += resid[rows[start:start + chunk]].astype(np.float64).sum(0)
    mean /= len(rows)
    residual = total = 0.0
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        x = torch.from_numpy(resid[part].astype(np.float32)).to(device)
        x_hat = sae.decode(codes.dense(part).to(device))
        residual += float((x - x_hat).double().pow(2).sum())
        total += float(((resid[part].astype(np.float64) - mean) ** 2).sum())
    return 1 - residual / total


def written_test(scores: dict, labels: np.ndarray, test: np.ndarray) -> dict:
    """The hand-labelled cases: which sense of "apple" (among the apple sentences alone), and the Golden
    Gate Bridge against every other written topic; best unit of each kind, chosen on training sentences."""
    out = {}
    apple = np.isin(labels, ["apple_fruit", "apple_company"])
    cases = {"apple_fruit": apple, "apple_company": apple, "golden_gate": np.ones(len(labels), bool)}
    for concept, among in cases.items():
        for kind, s in scores.items():
            tr, te = among & ~test, among & test
            train_auc = auc(s[tr], labels[tr] == concept)
            unit = int(np.argmax(train_auc))
            out[f"{concept}_{kind}"] = {"unit": unit, "train_auc": float(train_auc[unit]),
                                        "auc": float(auc(s[te][:, [unit]], labels[te] == concept)[0]),
                                        "held_out": int((labels[te] == concept).sum())}
    return out


def pet_features(scores: np.ndarray, labels: np.ndarray, n: int = 5) -> dict:
    """For dogs and for cats, the features whose sentence scores correlate most with the label."""
    out = {}
    for concept in ("dog", "cat"):
        y = (labels == concept).astype(np.float64)
        centred = scores - scores.mean(0)
        corr = (centred * (y - y.mean())[:, None]).sum(0) / (
            np.sqrt((centred ** 2).sum(0) * ((y - y.mean()) ** 2).sum()) + 1e-12)
        top = np.argsort(-corr)[:n]
        out[concept] = {"features": [int(i) for i in top], "correlation": [float(corr[i]) for i in top]}
    return out


@torch.no_grad()
def neuron_token_values(lm, sequences: list[list[int]], neurons: list[int], mlp_width: int, device,
                        batch_size: int = 32) -> list[np.ndarray]:
    """The chosen neurons' activations at every token (BOS dropped) of each sequence: ``[tokens, neurons]``.
    Only the blocks up to the deepest chosen neuron run."""
    blocks = {}
    for column, n in enumerate(neurons):
        blocks.setdefault(n // mlp_width, []).append((column, n % mlp_width))
    captured = {}

    def hook_for(block):
        def hook(module, inputs):
            for column, index in blocks[block]:
                captured[column] = inputs[0][:, :, index].float().cpu().numpy()
        return hook

    model = lm.model.model
    all_layers = model.layers
    model.layers = torch.nn.ModuleList(list(all_layers)[: max(blocks) + 1])
    handles = [model.layers[block].mlp.down_proj.register_forward_pre_hook(hook_for(block)) for block in blocks]
    out = []
    try:
        for start in range(0, len(sequences), batch_size):
            batch = sequences[start:start + batch_size]
            ids, attention = padded(batch)
            model(input_ids=ids.to(device), attention_mask=attention.to(device), use_cache=False)
            values = np.stack([captured[c] for c in range(len(neurons))], axis=-1)  # [batch, seq, neurons]
            out += [values[i, 1:len(row)] for i, row in enumerate(batch)]
    finally:
        for handle in handles:
            handle.remove()
        model.layers = all_layers
    return out


def concept_neuron_values(lm, acts, neurons, det, det_rows, neuron_max, det_train, det_test, starts, ends, layer,
                          mlp_width, device) -> np.ndarray:
    """Token-level activations of the concept neurons on the detection items their explanations and
    scores read (top training items, held-out top and random): one short second pass. Elsewhere 0."""
    out = np.zeros((len(det_rows), len(neurons)), dtype=np.float32)
    offset = np.concatenate([[0], np.cumsum(ends[det] - starts[det])])
    bos = lm.tokenizer.bos_token_id if lm.tokenizer.bos_token_id is not None else lm.tokenizer.eos_token_id
    needed = np.unique(np.concatenate([np.union1d(explain.top_items(neuron_max[:, u].astype(np.float32), det_train),
                                                  explain.evaluation_items(neuron_max[:, u].astype(np.float32),
                                                                           det_test, seed=u))
                                       for u in neurons])).astype(int)
    sequences = [[bos, *map(int, acts["token"][starts[det[i]]:ends[det[i]]])] for i in needed]
    for i, values in zip(needed, neuron_token_values(lm, sequences, neurons, mlp_width, device)):
        out[offset[i]:offset[i + 1]] = values
    return out


def feature_card(feature: int, why: str, codes, item_of: np.ndarray, strings: np.ndarray, density) -> dict:
    values = codes.column(feature)
    order = np.argsort(-values)
    snippets, used = [], set()
    for row in order:
        if values[row] <= 0 or len(snippets) == SNIPPETS:
            break
        if item_of[row] in used:
            continue
        used.add(item_of[row])
        rows = np.flatnonzero(item_of == item_of[row])
        peak = int(np.flatnonzero(rows == row)[0])
        window = rows[max(0, peak - WINDOW[0]): peak + WINDOW[1] + 1]
        snippets.append({"tokens": list(strings[window]), "values": [round(float(v), 3) for v in values[window]]})
    fired = values[values > 0]
    counts, edges = np.histogram(fired, bins=20) if len(fired) else (np.zeros(20), np.linspace(0, 1, 21))
    return {"feature": int(feature), "why": why, "density": float(density[feature]), "fires_on": int(len(fired)),
            "max": float(values.max()), "histogram": counts.astype(int).tolist(), "edges": [float(e) for e in edges],
            "snippets": snippets}


@torch.no_grad()
def spliced_losses(lm, layer, sequences, replace, device, limit, batch_size: int = 32):
    """Mean next-token loss with the residual after ``layer`` blocks left alone (clean), replaced by the
    SAE's reconstruction, and zeroed; the BOS and sink positions (norm above ``limit``) keep their own."""
    sequences = sorted(sequences, key=len)  # batches of similar length pad little; the sums do not change
    def hook(module, inputs, output):
        hidden = output[0] if isinstance(output, tuple) else output
        if state["mode"] == "clean":
            return None
        splice = hidden.norm(dim=-1) < limit
        splice[:, 0] = False
        new = torch.zeros_like(hidden) if state["mode"] == "zero" else replace(hidden)
        hidden = torch.where(splice[..., None], new, hidden)
        return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

    state = {"mode": "clean"}
    handle = lm.layers[layer - 1].register_forward_hook(hook)
    totals, count = {"clean": 0.0, "sae": 0.0, "zero": 0.0}, 0
    try:
        for start in bar(range(0, len(sequences), batch_size), desc="next-token loss, spliced"):
            ids, attention = padded(sequences[start:start + batch_size])
            ids, attention = ids.to(device), attention.to(device)
            targets = ids[:, 2:]  # predictions made at positions 1.. (the BOS position is left out)
            valid = attention[:, 2:].bool()
            count += int(valid.sum())
            for mode in totals:
                state["mode"] = mode
                logits = lm.model(input_ids=ids, attention_mask=attention, use_cache=False).logits[:, 1:-1]
                loss = torch.nn.functional.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")
                totals[mode] += float(loss[valid].sum())
    finally:
        handle.remove()
    return {mode: total / count for mode, total in totals.items()}, count


def pairwise_u(scores: np.ndarray, labels: np.ndarray, names: list[str], rows=None) -> np.ndarray:
    """``U[a, c, unit]``: the Mann-Whitney count of (a-item, c-item) pairs that the unit orders a > c.
    With ``rows`` (a flag per name), only pairs with at least one flagged name are counted."""
    groups = [np.flatnonzero(labels == n) for n in names]
    u = np.zeros((len(names), len(names), scores.shape[1]), dtype=np.float32)
    for i, a in enumerate(groups):
        for j, c in enumerate(groups):
            if j <= i or (rows is not None and not (rows[i] or rows[j])):
                continue
            both = np.concatenate([a, c])
            ranked = ranks(scores[both], axis=0).astype(np.float64)
            u_ac = ranked[: len(a)].sum(0) - len(a) * (len(a) + 1) / 2
            u[i, j] = u_ac
            u[j, i] = len(a) * len(c) - u_ac
    return u


def polysemantic_neuron(scores: np.ndarray, labels: np.ndarray, names: list[str]) -> dict:
    """The neuron and pair of unrelated concepts (a, b) maximising min(AUC of a vs the rest without b,
    AUC of b vs the rest without a): a neuron that picks out both, and little else."""
    u = pairwise_u(scores, labels, names, rows=[n in corpus.FOCUS for n in names])
    counts = np.array([np.sum(labels == n) for n in names], dtype=np.float64)
    best = (-1.0, None, None, None)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if j <= i or corpus.FAMILIES.get(a, a) == corpus.FAMILIES.get(b, b):
                continue
            if a not in corpus.FOCUS or b not in corpus.FOCUS:
                continue
            others = [c for c in range(len(names)) if c not in (i, j)]
            auc_a = u[i, others].sum(0) / (counts[i] * counts[others].sum())
            auc_b = u[j, others].sum(0) / (counts[j] * counts[others].sum())
            score = np.minimum(auc_a, auc_b)
            unit = int(np.argmax(score))
            if score[unit] > best[0]:
                best = (float(score[unit]), unit, (a, b), {a: float(auc_a[unit]), b: float(auc_b[unit])})
    return {"score": best[0], "unit": best[1], "concepts": list(best[2]), "aucs": best[3]}