"""The feature browser's data, computed once from the chapters' cached stages (``lm.stages.stages``): no
second pass of the model over the corpus, no retraining.

For every live feature: its strongest snippets (one per item) and a few drawn at random from where it
fires weakly, each token with the feature's activation; the histogram of its nonzero activations and its
density; the tokens its decoder direction promotes and suppresses through the unembedding (logit lens);
its automated explanation and that explanation's held-out score (``explanations``). For every word of the
corpus: the features that fire most on it and the features whose decoder promotes it most.

Most of it is two sorts of the (token, feature) pairs the codes hold: sorted by feature, item and
activation, each feature's peak in each item comes first in its run; sorted again, each feature's items
are one run, strongest first.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import NamedTuple

import numpy as np
import scipy.sparse
import torch

from ..cache import cached
from ..device import describe
from ..lm import explain, wordnet
from ..lm.activations import model_files
from ..lm.model import compute_dtype, load
from ..lm.stages import ChapterConfig, book_config, stages, tiny_config
from ..timeline import Timeline
from .explanations import Simulator, corpus_words, evaluation_items, explain_peaks

TOP = 10  # strongest snippets per feature, each from its own item
WEAK = 4  # snippets drawn at random from the items where the feature's peak is weak
WEAK_SHARE = 0.5  # "weak": the item's peak is below this share of the feature's largest activation
WINDOW = (10, 4)  # tokens shown before and after a snippet's peak (as the real-model page's cards)
BINS = 24  # histogram of nonzero activations, from 0 to the feature's largest
LENS = 10  # tokens shown promoted and suppressed
PER_WORD = 8  # features listed per word, by firing and by promotion

__all__ = ["runs", "evidence", "book_config", "tiny_config"]


def runs(config: ChapterConfig | None = None) -> Timeline:
    """The browser's data for the book's SAE, from the cache when nothing changed."""
    return evidence(config or book_config())


# --- sorting pairs ------------------------------------------------------------------------------------

def sort_key(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """By group ascending, then by value (positive float32) descending. A positive float32's bits, read as
    an integer, rise with its value; groups must stay below 2**32."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.int32).astype(np.int64)
    return groups.astype(np.int64) * 2**31 + (2**31 - 1 - bits)


def strongest_first(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The order by group, then by value descending, ties kept in their order: one stable sort of
    ``sort_key`` in torch (about twice numpy's speed on millions of keys), or numpy's lexsort where the
    groups are too many for the key (a GPU build's wider SAE and larger corpus)."""
    if len(groups) and groups.max() >= 2**32:
        return np.lexsort((-values, groups))
    return torch.from_numpy(sort_key(groups, values)).argsort(stable=True).numpy()


def rank_in_group(sorted_groups: np.ndarray) -> np.ndarray:
    """Each element's place in its run of equal groups (0 for the first)."""
    n = len(sorted_groups)
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]) if n else np.zeros(0, int)
    return np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))


def runs_of(sorted_groups: np.ndarray, groups: np.ndarray):
    """Where each of ``groups`` starts and ends in ``sorted_groups`` (empty where it is absent)."""
    return np.searchsorted(sorted_groups, groups), np.searchsorted(sorted_groups, groups, "right")


def table(row: np.ndarray, column: np.ndarray, values: np.ndarray, shape, fill) -> np.ndarray:
    out = np.full(shape, fill, dtype=values.dtype)
    out[row, column] = values
    return out


class Peaks(NamedTuple):
    """Each feature's peak in each item where it fires: by feature, strongest first, ties by item (the
    order ``explain.top_items`` reads items in); ``row`` is the peak's token (the earliest of equals)."""
    feature: np.ndarray
    item: np.ndarray
    value: np.ndarray
    row: np.ndarray


def item_peaks(rows, feat, val, item_of, n_items) -> Peaks:
    group = feat * n_items + item_of[rows]
    order = strongest_first(group, val)  # by (feature, item), strongest first
    first = order[np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])]
    first = first[strongest_first(feat[first], val[first])]
    return Peaks(feat[first], item_of[rows[first]], val[first], rows[first])


def values_at(codes, keep: np.ndarray, rows: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The activation of ``features[i]`` at ``rows[i, ...]`` (0 at attention sinks and at row -1)."""
    safe = np.maximum(rows, 0)
    hit = codes.indices.numpy()[safe] == features.reshape(features.shape + (1,) * (rows.ndim - features.ndim + 1))
    out = (codes.values.numpy()[safe].astype(np.float32) * hit).sum(-1)
    return np.where((rows >= 0) & keep[safe], out, 0).astype(np.float32)


def windows(peaks: np.ndarray, item_of: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The rows shown around each peak row (within its own item; -1 elsewhere and for peak -1)."""
    rows = peaks[..., None] + np.arange(-WINDOW[0], WINDOW[1] + 1)
    item = item_of[np.maximum(peaks, 0)][..., None]
    inside = (peaks[..., None] >= 0) & (rows >= starts[item]) & (rows < ends[item])
    return np.where(inside, rows, -1)


# --- the parts of a feature's view ----------------------------------------------------------------------

def snippets(peaks: Peaks, live, largest, codes, keep, acts, starts, ends, seed: int) -> dict:
    """Token ids and activations of each live feature's ``TOP`` strongest items and ``WEAK`` items drawn at
    random among those where its peak is under ``WEAK_SHARE`` of its largest; and each snippet's item."""
    at = np.searchsorted(live, peaks.feature)
    rank = rank_in_group(peaks.feature)
    top = rank < TOP
    chosen = {"top": table(at[top], rank[top], peaks.row[top], (len(live), TOP), -1)}
    weak = np.flatnonzero(peaks.value < WEAK_SHARE * largest[peaks.feature])
    weak = weak[np.argsort(peaks.feature[weak] + np.random.default_rng(seed).random(len(weak)))]  # shuffled per feature
    rank = rank_in_group(peaks.feature[weak])
    weak, rank = weak[rank < WEAK], rank[rank < WEAK]
    chosen["weak"] = table(at[weak], rank, peaks.row[weak], (len(live), WEAK), -1)
    item_of, out = acts["item"], {}
    for name, peak_rows in chosen.items():
        window = windows(peak_rows, item_of, starts, ends)
        out[f"{name}_tokens"] = np.where(window >= 0, acts["token"][np.maximum(window, 0)], -1).astype(np.int32)
        out[f"{name}_values"] = np.concatenate([values_at(codes, keep, window[i:i + 256], live[i:i + 256])
                                                for i in range(0, len(live), 256)]).astype(np.float16)
        out[f"{name}_item"] = np.where(peak_rows >= 0, item_of[np.maximum(peak_rows, 0)], -1).astype(np.int32)
    return out


def word_firing(row_word, n_words, rows, feat, val, keep, largest) -> dict:
    """For each word, the ``PER_WORD`` features with the largest mean activation over the word's tokens, as a
    share of each feature's largest (ties by feature)."""
    tokens = np.bincount(row_word[keep], minlength=n_words)
    sums = scipy.sparse.coo_matrix((val.astype(np.float64), (row_word[rows], feat)),
                                   shape=(n_words, len(largest))).tocsr()  # sums duplicates, sorts features
    sums.sum_duplicates()
    word = np.repeat(np.arange(n_words), np.diff(sums.indptr))
    share = sums.data / (tokens[word] * largest[sums.indices])
    order = strongest_first(word, share)
    word, feature, share = word[order], sums.indices[order], share[order]
    rank = rank_in_group(word)
    listed = rank < PER_WORD
    return {"word_tokens": tokens.astype(np.int32),
            "word_fire": table(word[listed], rank[listed], feature[listed].astype(np.int32), (n_words, PER_WORD), -1),
            "word_fire_share": table(word[listed], rank[listed], share[listed].astype(np.float16),
                                     (n_words, PER_WORD), np.float16(0))}


@torch.no_grad()
def logit_lens(decoder: np.ndarray, unembed: torch.Tensor, columns: np.ndarray, dtype, chunk: int = 512):
    """Each decoder row's effect on the logits, as z-scores over the vocabulary (the steering page's
    promotion score): its ``LENS`` most raised and most lowered tokens, and for each token of ``columns``
    the ``PER_WORD`` rows that raise it most.

    z = d·(u − ū) / sd, with sd from the vocabulary's covariance, so one product gives every z. The products
    run in ``dtype`` (bfloat16 where native: 2.4× faster here) and only nominate candidates, twice as many
    as kept, whose z is then computed again in float32."""
    centred = unembed - unembed.mean(0)
    spread = (centred.T @ centred) / len(centred)
    d = torch.from_numpy(decoder.astype(np.float32))
    d = d / torch.einsum("rw,wv,rv->r", d, spread, d).sqrt()[:, None]
    fast_vocab, fast_rows = centred.to(dtype), d.to(dtype)
    up, down, by_token = [], [], []
    for start in range(0, len(d), chunk):  # rows: the tokens each feature raises and lowers most
        rows = d[start:start + chunk]
        z = fast_rows[start:start + chunk] @ fast_vocab.T
        for out, largest in ((up, True), (down, False)):
            tokens = z.topk(2 * LENS, dim=1, largest=largest).indices
            kept = torch.einsum("rw,rcw->rc", rows, centred[tokens]).topk(LENS, dim=1, largest=largest)
            out.append((tokens.gather(1, kept.indices), kept.values))
    fast_columns = fast_rows.T.contiguous()
    for start in range(0, len(columns), 4 * chunk):  # columns: the features that raise each word token most
        tokens = torch.from_numpy(columns[start:start + 4 * chunk])
        candidates = (fast_vocab[tokens] @ fast_columns).topk(min(2 * PER_WORD, len(d)), dim=1).indices
        kept = torch.einsum("tcw,tw->tc", d[candidates], centred[tokens]).topk(min(PER_WORD, len(d)), dim=1)
        by_token.append((candidates.gather(1, kept.indices), kept.values))
    join = lambda parts, i: torch.cat([p[i] for p in parts]).numpy()  # noqa: E731
    return (join(up, 0), join(up, 1)), (join(down, 0), join(down, 1)), (join(by_token, 0), join(by_token, 1))


def word_promotion(token_rows, token_z, token_word, live, n_words) -> dict:
    """For each word, the ``PER_WORD`` features that raise its tokens (" Dog", "dog"...) most, each once."""
    word = np.repeat(token_word, token_rows.shape[1])
    feature, z = live[token_rows.ravel()], token_z.ravel()
    order = np.lexsort((-z, word))
    word, feature, z = word[order], feature[order], z[order]
    pair = word.astype(np.int64) * (live.max() + 1) + feature
    _, once = np.unique(pair, return_index=True)  # a feature once per word, at its best token
    once = np.sort(once)
    word, feature, z = word[once], feature[once], z[once]
    rank = rank_in_group(word)
    listed = rank < PER_WORD
    shape = (n_words, PER_WORD)
    return {"word_promote": table(word[listed], rank[listed], feature[listed].astype(np.int32), shape, -1),
            "word_promote_z": table(word[listed], rank[listed], z[listed].astype(np.float16), shape, np.float16(0))}


def explain_all(peaks: Peaks, live, codes, keep, acts, row_word, words, starts, ends):
    """The real-model page's explanation and held-out score of every live feature, on the detection items."""
    det = np.zeros(len(acts["item_source"]), dtype=bool)
    det[acts["detection_items"]] = True
    test = acts["item_test"].astype(bool)
    held = np.flatnonzero(det & test)
    sim = Simulator(words, explain.Lexicon.from_wordnet(wordnet.synsets()))
    train = np.flatnonzero(det[peaks.item] & ~test[peaks.item])
    train = train[rank_in_group(peaks.feature[train]) < explain.TOP_ITEMS]  # explain.top_items
    held_peaks = np.flatnonzero(det[peaks.item] & test[peaks.item])
    (ta, tb), (ha, hb) = runs_of(peaks.feature[train], live), runs_of(peaks.feature[held_peaks], live)
    texts, categories, scores = [], [], np.zeros(len(live), dtype=np.float32)
    for i, f in enumerate(live.tolist()):
        e = explain_peaks(row_word[peaks.row[train[ta[i]:tb[i]]]], peaks.value[train[ta[i]:tb[i]]], sim)
        items = evaluation_items(peaks.item[held_peaks[ha[i]:hb[i]]], held, seed=f)
        rows = np.concatenate([np.arange(starts[j], ends[j]) for j in items])
        actual = values_at(codes, keep, rows, np.full(len(rows), f))
        scores[i] = explain.correlation(sim.fires(e)[row_word[rows]], actual)
        texts.append(e.text())
        categories.append(e.category)
    return texts, categories, scores


def decoded(tokenizer, ids) -> list[str]:
    return tokenizer.batch_decode([[int(i)] for i in ids])


def unembedding(lm) -> torch.Tensor:
    """The unembedding with the final norm's gain folded in: what a residual direction does to the logits."""
    gain = lm.model.model.norm.weight.detach().float()
    return lm.model.get_output_embeddings().weight.detach().float() * gain


def timed(fn, *args):
    started = time.perf_counter()
    return fn(*args), round(time.perf_counter() - started, 2)


# --- the stage -------------------------------------------------------------------------------------------

@cached(data=lambda config: model_files(config.activations))
def evidence(config: ChapterConfig) -> Timeline:
    times, last = {}, [time.perf_counter()]

    def lap(name):  # the time since the previous lap
        times[name] = round(time.perf_counter() - last[0], 2)
        last[0] = time.perf_counter()

    run = stages(config)
    acts, codes, keep = run.acts, run.codes, run.keep
    cpu = torch.device("cpu")
    lm = load(config.activations.model, cpu, "float32")  # the tokenizer and the unembedding
    lap("load_s")

    # the corpus's words first: the logit lens needs them, and then runs in a thread beside the numpy and
    # Python work below (torch's products, like numpy's sorts, release the GIL): both cores stay busy
    starts, ends = run.item_bounds()
    unique_ids, unique_of_row = np.unique(acts["token"], return_inverse=True)
    row_word, words = corpus_words(decoded(lm.tokenizer, unique_ids), unique_of_row, starts)
    index = {w: i for i, w in enumerate(words)}
    vocab = decoded(lm.tokenizer, range(lm.model.get_output_embeddings().weight.shape[0]))
    vocab_word = np.array([index.get(s.strip().lower(), -1) if s.strip().isalpha() else -1 for s in vocab])
    columns = np.flatnonzero(vocab_word >= 0)  # tokens that are a word of the corpus, " Dog" and "dog" alike
    lap("words_s")

    rows, slots = np.nonzero((codes.values.numpy() > 0) & keep[:, None])  # every pair where a feature fires
    feat = codes.indices.numpy()[rows, slots].astype(np.int64)
    val = codes.values.numpy()[rows, slots].astype(np.float32)
    fires_on = np.bincount(feat, minlength=codes.d_sae)
    live = np.flatnonzero(fires_on)
    with ThreadPoolExecutor(1) as pool:
        lens = pool.submit(timed, logit_lens, run.trained["W_dec"][live], unembedding(lm), columns,
                           getattr(torch, compute_dtype(cpu)))
        largest = np.zeros(codes.d_sae, dtype=np.float32)
        np.maximum.at(largest, feat, val)
        bins = np.minimum((val / largest[feat] * BINS).astype(np.int64), BINS - 1)
        histogram = np.bincount(feat * BINS + bins, minlength=codes.d_sae * BINS).reshape(codes.d_sae, BINS)[live]
        peaks = item_peaks(rows, feat, val, acts["item"].astype(np.int64), run.n_items)
        lap("sort_s")
        shown = snippets(peaks, live, largest, codes, keep, acts, starts, ends, config.sae.seed)
        firing = word_firing(row_word, len(words), rows, feat, val, keep, largest)
        lap("snippets_and_firing_s")
        texts, categories, scores = explain_all(peaks, live, codes, keep, acts, row_word, words, starts, ends)
        lap("explanations_s")
        ((up_ids, up_z), (down_ids, down_z), (token_rows, token_z)), times["logit_lens_alone_s"] = lens.result()
    promotion = word_promotion(token_rows, token_z, vocab_word[columns], live, len(words))
    lap("logit_lens_wait_s")

    strings = np.unique(np.concatenate([shown["top_tokens"].ravel(), shown["weak_tokens"].ravel(),
                                        up_ids.ravel(), down_ids.ravel()]))
    strings = strings[strings >= 0]
    return Timeline(
        fixed={"feature": live, "fires_on": fires_on[live], "density": fires_on[live] / keep.sum(),
               "largest": largest[live], "histogram": histogram.astype(np.int32), **shown,
               "item_test": acts["item_test"].astype(np.int8), "item_source": acts["item_source"],
               "up_ids": up_ids.astype(np.int32), "up_z": up_z.astype(np.float16),
               "down_ids": down_ids.astype(np.int32), "down_z": down_z.astype(np.float16),
               "score": scores, **firing, **promotion, "string_ids": strings.astype(np.int32)},
        meta={"config": {"chapter": asdict(config), "top": TOP, "weak": WEAK, "weak_share": WEAK_SHARE,
                         "window": list(WINDOW), "bins": BINS, "lens": LENS, "per_word": PER_WORD},
              "d_sae": int(codes.d_sae), "kept_tokens": int(keep.sum()), "explanations": texts,
              "categories": categories, "words": words, "strings": decoded(lm.tokenizer, strings),
              "sources": acts.meta["sources"], "times": times, "run": describe(cpu)},
    )
