"""Second passes of the model for neurons the store did not keep at every token: their activation at each
token of chosen items (``neuron_token_values``), and of sentences outside the corpus (``sentence_maxima``)."""
from __future__ import annotations

import numpy as np
import torch

from ..lm import explain
from ..lm.activations import Recorder, batches, encode, padded


@torch.no_grad()
def neuron_token_values(lm, sequences: list[list[int]], neurons: list[int], mlp_width: int, device,
                        batch_tokens: int = 4096) -> list[np.ndarray]:
    """The chosen neurons' activations at every token (BOS dropped) of each sequence: ``[tokens, neurons]``.
    Only the blocks up to the deepest chosen neuron run, on batches of sequences of similar length."""
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
    out = [None] * len(sequences)
    try:
        for group in batches([len(row) for row in sequences], batch_tokens):
            batch = [sequences[i] for i in group]
            ids, attention = padded(batch)
            model(input_ids=ids.to(device), attention_mask=attention.to(device), use_cache=False)
            values = np.stack([captured[c] for c in range(len(neurons))], axis=-1)  # [batch, seq, neurons]
            for i, row, v in zip(group, batch, values):
                out[i] = v[1:len(row)]
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


@torch.no_grad()
def sentence_maxima(lm, run, sentences: list[str], device) -> tuple[np.ndarray, np.ndarray]:
    """For sentences outside the corpus: every neuron's and every SAE feature's largest activation over each
    sentence (``[sentences, layer × mlp_width]``, ``[sentences, d_sae]``), sinks left out as in the store."""
    layer, sae = run.layer, run.sae(device)
    all_layers = lm.model.model.layers
    lm.model.model.layers = torch.nn.ModuleList(list(all_layers)[:layer])
    neurons, features = [], []
    try:
        with Recorder(lm, layer, np.array([], dtype=np.int64)) as recorder:
            for start in range(0, len(sentences), 32):
                ids, attention = padded(encode(lm.tokenizer, sentences[start:start + 32]))
                recorder.mask = attention.bool().to(device)
                recorder.mask[:, 0] = False
                recorder.picked = torch.zeros((*ids.shape, 0), device=device)
                recorder.neuron_max = torch.zeros((len(ids), layer, lm.mlp_width), device=device)
                lm.model.model(input_ids=ids.to(device), attention_mask=attention.to(device), use_cache=False)
                x = recorder.resid.float()
                kept = recorder.mask & (x.norm(dim=-1) < run.sink_limit)
                codes = sae.encode(x) * kept[..., None]
                features.append(codes.max(dim=1).values.cpu().numpy())
                neurons.append(recorder.neuron_max.reshape(len(ids), -1).float().cpu().numpy())
    finally:
        lm.model.model.layers = all_layers
    return np.concatenate(neurons), np.concatenate(features)
