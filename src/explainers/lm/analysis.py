"""What the chapter shows, computed from the cached runs: the SAE's measures, a polysemantic neuron,
the features that separate its meanings, and how well single neurons and single features detect each
labelled concept on held-out sentences.

Scores are sentence-level: a unit's score for a sentence is its largest activation over the sentence's
tokens (the BOS excluded). A unit is chosen on the training sentences and scored on the held-out ones.
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
from . import corpus
from .activations import encode_sentences, general_pieces, model_files
from .model import load
from .sae import ce_loss_recovered, dead_fraction, dense_fraction
from .train import ChapterConfig, collect, kept_tokens, sae_from, train

SNIPPETS = 5
WINDOW = (10, 4)  # tokens shown before and after a snippet's peak


# --- AUC, vectorised over units ----------------------------------------------------------------------

def _ranks(scores: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) down axis 0, ties sharing their mean rank."""
    from scipy.stats import rankdata

    return rankdata(scores, method="average", axis=0)


def auc(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """ROC AUC of every column of ``scores`` [items, units] at telling ``positive`` items from the rest."""
    positive = positive.astype(bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs positives and negatives")
    ranks = _ranks(np.asarray(scores, dtype=np.float64).reshape(len(positive), -1))
    return (ranks[positive].sum(0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


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
            ranks = _ranks(scores[both].astype(np.float64))
            u_ac = ranks[: len(a)].sum(0) - len(a) * (len(a) + 1) / 2
            u[i, j] = u_ac
            u[j, i] = len(a) * len(c) - u_ac
    return u


# --- token text --------------------------------------------------------------------------------------

def token_texts(tokenizer, ids) -> list[str]:
    return [tokenizer.decode([int(i)]) for i in ids]


class SparseCodes:
    """The SAE's codes for every token, kept as the k (index, value) pairs TopK leaves (float16 values):
    a GPU run's millions of tokens times thousands of latents would not fit as a dense matrix."""

    def __init__(self, indices: torch.Tensor, values: torch.Tensor, d_sae: int):
        self.indices, self.values, self.d_sae = indices, values, d_sae

    def dense(self, rows) -> torch.Tensor:
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        out = torch.zeros((len(rows), self.d_sae))
        return out.scatter_(1, self.indices[rows], self.values[rows].float())

    def column(self, feature: int) -> np.ndarray:
        hit = self.indices == feature
        return (self.values.float() * hit).sum(1).numpy()

    def density(self, rows) -> np.ndarray:
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        fired = self.indices[rows][self.values[rows] > 0]
        return (torch.bincount(fired, minlength=self.d_sae).float() / len(rows)).numpy()

    def l0(self, rows) -> float:
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        return float((self.values[rows] > 0).sum(1).float().mean())


@torch.no_grad()
def encode_all(sae, resid: np.ndarray, device, chunk: int = 4096) -> SparseCodes:
    indices, values = [], []
    for start in range(0, len(resid), chunk):
        x = torch.from_numpy(resid[start:start + chunk].astype(np.float32)).to(device)
        top = sae.pre_acts(x).topk(sae.k, dim=-1)
        indices.append(top.indices.cpu())
        values.append(top.values.half().cpu())
    return SparseCodes(torch.cat(indices), torch.cat(values), sae.W_enc.shape[1])


@torch.no_grad()
def held_out_explained_variance(sae, resid: np.ndarray, rows: np.ndarray, codes: SparseCodes, device,
                                chunk: int = 8192) -> float:
    """``explained_variance`` over ``rows``, summed chunk by chunk."""
    mean = torch.zeros(resid.shape[1], dtype=torch.float64)
    for start in range(0, len(rows), chunk):
        mean += torch.from_numpy(resid[rows[start:start + chunk]].astype(np.float64)).sum(0)
    mean /= len(rows)
    residual = total = 0.0
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        x = torch.from_numpy(resid[part].astype(np.float32)).to(device)
        x_hat = sae.decode(codes.dense(part).to(device))
        residual += float((x - x_hat).double().pow(2).sum())
        total += float((x.double().cpu() - mean).pow(2).sum())
    return 1 - residual / total


def sentence_max(codes: SparseCodes, sentence: np.ndarray, n: int) -> np.ndarray:
    """Each latent's largest value per sentence ([n, d_sae])."""
    out = np.zeros((n, codes.d_sae), dtype=np.float32)
    for s in range(n):
        out[s] = codes.dense(np.flatnonzero(sentence == s)).max(0).values.numpy()
    return out


def best_units(scores_train, labels_train, scores_test, labels_test, concept):
    """The unit with the best training AUC for ``concept``, and its held-out AUC."""
    train_auc = auc(scores_train, labels_train == concept)
    unit = int(np.argmax(train_auc))
    test_auc = float(auc(scores_test[:, [unit]], labels_test == concept)[0])
    return unit, float(train_auc[unit]), test_auc


def precision_recall_at(scores_train, y_train, scores_test, y_test):
    """Precision and recall on held-out items at the threshold that maximises training F1."""
    best_f1, best_t = -1.0, 0.0
    for t in np.unique(scores_train):
        predicted = scores_train >= t
        tp = np.sum(predicted & y_train)
        if tp == 0:
            continue
        f1 = 2 * tp / (predicted.sum() + y_train.sum())
        if f1 > best_f1:
            best_f1, best_t = f1, t
    predicted = scores_test >= best_t
    tp = np.sum(predicted & y_test)
    return (float(tp / max(predicted.sum(), 1)), float(tp / max(y_test.sum(), 1)))


@cached(data=lambda config: model_files(config.activations))
def analyse(config: ChapterConfig) -> Timeline:
    device = pick()
    started = time.perf_counter()
    acts = collect(config.activations)
    trained = train(config)
    sae = sae_from(trained, device)
    layer = config.activations.layer
    keep = kept_tokens(acts)
    test = acts["test"].astype(bool)
    sentence = acts["sentence"]
    resid = acts["resid"]

    # 1. the standard measures, on held-out tokens (general text and sentences)
    held = np.flatnonzero(keep & test)
    codes = encode_all(sae, resid, device)
    density = codes.density(np.flatnonzero(keep))  # firing density over every kept token
    metrics = {
        "l0": codes.l0(held),
        "explained_variance": held_out_explained_variance(sae, resid, held, codes, device),
        "dead_fraction": dead_fraction(density),
        "dense_fraction": dense_fraction(density),
        "held_out_tokens": int(len(held)), "density_tokens": int(keep.sum()),
    }

    # 2. next-token loss with the SAE spliced in, on held-out pieces and held-out sentences
    lm = load(config.activations.model, device)
    tok = lm.tokenizer
    written = corpus.sentences()
    labels = np.array([s.label for s in written])
    is_test = np.array([s.test for s in written])
    encoded = encode_sentences(tok, [s.text for s in written])
    pieces = general_pieces(tok, config.activations.general_tokens, config.activations.context)
    eval_pieces = pieces[-acts.meta["n_test_pieces"]:][: config.eval_pieces]
    sequences = [list(map(int, p)) for p in eval_pieces] + [encoded[i] for i in np.flatnonzero(is_test)]

    def reconstruct(hidden):
        return sae(hidden.float()).to(hidden.dtype)

    limit = float(np.median(np.linalg.norm(resid.astype(np.float32), axis=1)) * 10.0)
    loss_started = time.perf_counter()
    losses, loss_tokens = spliced_losses(lm, layer, sequences, reconstruct, device, limit)
    loss_s = time.perf_counter() - loss_started
    metrics |= {"ce_loss_clean": losses["clean"], "ce_loss_sae": losses["sae"], "ce_loss_zero": losses["zero"],
                "ce_loss_recovered": ce_loss_recovered(losses["clean"], losses["sae"], losses["zero"]),
                "loss_tokens": loss_tokens}

    # 3. sentence-level scores of every neuron (blocks 1..layer) and every SAE feature
    n_sent = len(written)
    neuron_scores = acts["neuron_max"].astype(np.float32).reshape(n_sent, -1)
    feature_scores = sentence_max(codes, sentence, n_sent)
    names = list(corpus.concepts())
    tr, te = ~is_test, is_test

    table = []
    for concept in names:
        n_unit, n_train, n_test = best_units(neuron_scores[tr], labels[tr], neuron_scores[te], labels[te], concept)
        f_unit, f_train, f_test = best_units(feature_scores[tr], labels[tr], feature_scores[te], labels[te], concept)
        n_pr = precision_recall_at(neuron_scores[tr, n_unit], labels[tr] == concept, neuron_scores[te, n_unit],
                                   labels[te] == concept)
        f_pr = precision_recall_at(feature_scores[tr, f_unit], labels[tr] == concept, feature_scores[te, f_unit],
                                   labels[te] == concept)
        table.append({"concept": concept, "neuron": n_unit, "neuron_auc": n_test, "neuron_train_auc": n_train,
                      "neuron_precision": n_pr[0], "neuron_recall": n_pr[1],
                      "feature": f_unit, "feature_auc": f_test, "feature_train_auc": f_train,
                      "feature_precision": f_pr[0], "feature_recall": f_pr[1],
                      "test_positives": int(np.sum(labels[te] == concept))})

    # fruit or company, among the apple sentences only: one unit that tells the two senses apart
    apple = np.isin(labels, ["apple_fruit", "apple_company"])
    senses = {}
    for sense in ("apple_fruit", "apple_company"):
        for kind, scores in (("neuron", neuron_scores), ("feature", feature_scores)):
            unit, train_auc, test_auc = best_units(scores[tr & apple], labels[tr & apple], scores[te & apple],
                                                   labels[te & apple], sense)
            senses[f"{sense}_{kind}"] = {"unit": unit, "auc": test_auc, "train_auc": train_auc}

    # 4. a polysemantic neuron: high for two unrelated concepts, against everything else
    poly = polysemantic_neuron(neuron_scores[tr], labels[tr], names)
    a, b = poly["concepts"]
    neuron_layer, neuron_index = divmod(poly["unit"], lm.mlp_width)
    # the same two concepts in the SAE: the best feature for each, and how each scores the other
    sae_pair = {}
    for concept, other in ((a, b), (b, a)):
        rest = ~np.isin(labels, [other])
        unit, train_auc, _ = best_units(feature_scores[tr & rest], labels[tr & rest], feature_scores[te & rest],
                                        labels[te & rest], concept)
        vs_rest = te & ~np.isin(labels, [concept, other])
        sae_pair[concept] = {
            "feature": unit,
            "auc_own": float(auc(feature_scores[te & (vs_rest | (labels == concept))][:, [unit]],
                                 labels[te & (vs_rest | (labels == concept))] == concept)[0]),
            "auc_other": float(auc(feature_scores[te & (vs_rest | (labels == other))][:, [unit]],
                                   labels[te & (vs_rest | (labels == other))] == other)[0]),
        }
    neuron_pair = {}
    for concept, other in ((a, b), (b, a)):
        vs_rest = te & ~np.isin(labels, [concept, other])
        mask = te & (vs_rest | (labels == concept))
        neuron_pair[concept] = float(auc(neuron_scores[mask][:, [poly["unit"]]], labels[mask] == concept)[0])

    # token-level activations of that neuron on a few held-out sentences, by running its block again
    shown = []
    for concept in (a, b):
        shown += list(np.flatnonzero(te & (labels == concept))[:4])
    shown += [int(np.flatnonzero(te & (labels == c))[0]) for c in names if c not in (a, b)][:4]
    neuron_tokens = neuron_activations(lm, [encoded[i] for i in shown], neuron_layer, neuron_index, device)
    poly_sentences = [{"label": str(labels[i]), "tokens": token_texts(tok, encoded[i][1:]),
                       "values": [round(float(v), 3) for v in neuron_tokens[j]]} for j, i in enumerate(shown)]

    # 5. dog and cat: the features most correlated with each label, and two latent vectors side by side
    pets = {}
    for concept in ("dog", "cat"):
        y = (labels[tr] == concept).astype(np.float32)
        f = feature_scores[tr]
        fc = f - f.mean(0)
        corr = (fc * (y - y.mean())[:, None]).sum(0) / (np.sqrt((fc ** 2).sum(0) * ((y - y.mean()) ** 2).sum()) + 1e-12)
        top = np.argsort(-corr)[:5]
        pets[concept] = {"features": [int(i) for i in top], "correlation": [float(corr[i]) for i in top]}
    dog_i = int(np.flatnonzero(te & (labels == "dog"))[0])
    cat_i = int(np.flatnonzero(te & (labels == "cat"))[0])
    latent_dog, latent_cat = feature_scores[dog_i], feature_scores[cat_i]

    # 6. feature cards: the best feature per focus concept, and the polysemantic pair's features
    card_features = []
    for row in table:
        if row["concept"] in corpus.FOCUS and row["feature"] not in card_features:
            card_features.append(row["feature"])
    for concept in (a, b):
        if sae_pair[concept]["feature"] not in card_features:
            card_features.append(sae_pair[concept]["feature"])
    cards = [feature_card(f, codes, acts, tok, table, density) for f in card_features]

    meta = {
        "config": asdict(config), "metrics": metrics, "table": table, "senses": senses,
        "polysemantic": {"layer": int(neuron_layer), "index": int(neuron_index), "concepts": [a, b],
                         "train_auc": poly["aucs"], "test_auc": neuron_pair, "sentences": poly_sentences},
        "sae_pair": sae_pair, "pets": pets,
        "pet_sentences": {"dog": written[dog_i].text, "cat": written[cat_i].text},
        "cards": cards, "concepts": corpus.concepts(),
        "n_sentences": n_sent, "n_test_sentences": int(is_test.sum()),
        "n_neurons": int(neuron_scores.shape[1]), "loss_s": round(loss_s, 2),
        "analysis_s": round(time.perf_counter() - started, 2),
        "run": describe(device),
    }
    return Timeline(fixed={"density": density, "latent_dog": latent_dog, "latent_cat": latent_cat,
                           "density_bins": trained["density_bins"]}, meta=meta)


@torch.no_grad()
def spliced_losses(lm, layer, sequences, replace, device, limit, batch_size: int = 8):
    """Mean next-token loss with the residual after ``layer`` blocks left alone (clean), replaced by the
    SAE's reconstruction, and zeroed; the BOS and sink positions (norm above ``limit``) keep their own."""
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
            batch = sequences[start:start + batch_size]
            width = max(map(len, batch))
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            attention = torch.zeros_like(ids)
            for i, row in enumerate(batch):
                ids[i, :len(row)] = torch.tensor(row)
                attention[i, :len(row)] = 1
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


@torch.no_grad()
def neuron_activations(lm, sequences, layer: int, index: int, device) -> list[np.ndarray]:
    """One MLP neuron's activation at every token (BOS dropped) of each sequence."""
    captured = {}

    def hook(module, inputs):
        captured["acts"] = inputs[0][..., index].float().cpu().numpy()

    handle = lm.layers[layer].mlp.down_proj.register_forward_pre_hook(hook)
    out = []
    try:
        for row in sequences:
            lm.model.model(input_ids=torch.tensor([row], device=device), use_cache=False)
            out.append(captured["acts"][0, 1:])
    finally:
        handle.remove()
    return out


def feature_card(feature: int, codes: SparseCodes, acts: Timeline, tok, table, density) -> dict:
    values = codes.column(feature)
    seq, tokens = acts["seq"], acts["token"]
    order = np.argsort(-values)
    snippets, used = [], set()
    for row in order:
        if values[row] <= 0 or len(snippets) == SNIPPETS:
            break
        if seq[row] in used:
            continue
        used.add(seq[row])
        rows = np.flatnonzero(seq == seq[row])
        peak = int(np.flatnonzero(rows == row)[0])
        window = rows[max(0, peak - WINDOW[0]): peak + WINDOW[1] + 1]
        snippets.append({"tokens": token_texts(tok, tokens[window]),
                         "values": [round(float(v), 3) for v in values[window]],
                         "sentence": int(acts["sentence"][row])})
    fired = values[values > 0]
    counts, edges = np.histogram(fired, bins=20) if len(fired) else (np.zeros(20), np.linspace(0, 1, 21))
    best = max(table, key=lambda r: r["feature_auc"] if r["feature"] == feature else -1)
    concept = best["concept"] if best["feature"] == feature else None
    return {"feature": int(feature), "density": float(density[feature]), "fires_on": int(len(fired)),
            "max": float(values.max()), "histogram": counts.astype(int).tolist(),
            "edges": [float(e) for e in edges], "snippets": snippets, "concept": concept}


def book_run(config: ChapterConfig | None = None):
    """The chapter's runs, from the cache when nothing changed: ``(trained SAE, analysis)``."""
    from .train import book_config

    config = config or book_config()
    return train(config), analyse(config)
