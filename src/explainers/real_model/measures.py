"""The SAE's standard measures on held-out tokens: sparsity, explained variance, dead and dense latents,
and the next-token loss with the SAE spliced into the model, with where the clean loss comes from."""
from __future__ import annotations

import numpy as np
import torch

from ..lm.activations import bos_id, padded
from ..lm.edit import edited_residual
from ..progress import bar
from ..sae_measures import DENSE_THRESHOLD, ce_loss_recovered, dead_fraction, dense_fraction

POSITION_BINS = (2, 5, 17, 10_000)  # the clean loss by the predicted token's position in its item: 2–4, 5–16, 17 on


def standard_measures(run, lm, device, eval_items: int) -> dict:
    acts, keep, test = run.acts, run.keep, run.test
    held = np.flatnonzero(keep & test)
    density = run.codes.density(np.flatnonzero(keep))
    sae = run.sae(device)
    out = {"l0": run.codes.l0(held), "dead_fraction": float(dead_fraction(density)),
           "dense_fraction": float(dense_fraction(density)), "dense_cutoff": DENSE_THRESHOLD,
           "held_out_tokens": int(len(held)), "density_tokens": int(keep.sum()),
           "explained_variance": held_out_explained_variance(sae, acts["resid"], held, run.codes, device)}
    # next-token loss on held-out items of general text (WordNet and fortunes)
    starts, ends = run.item_bounds()
    source, item_test = acts["item_source"], acts["item_test"].astype(bool)
    # held-out general text, half WordNet glosses and half fortunes (the store holds them in that order)
    general = [i for i in range(run.n_items) if item_test[i] and source[i] == 0][:eval_items // 2]
    general += [i for i in range(run.n_items) if item_test[i] and source[i] == 1][:eval_items - len(general)]
    bos = bos_id(lm.tokenizer)
    sequences = [[bos, *map(int, acts["token"][starts[i]:ends[i]])] for i in general]
    losses, count, clean = spliced_losses(lm, run.layer, sequences, sae, device, run.sink_limit)
    # the written sentences, everyday English written for the book: the clean loss only, for comparison
    written = [i for i in range(run.n_items) if item_test[i] and source[i] == 2]
    _, _, clean_written = spliced_losses(lm, run.layer, [[bos, *map(int, acts["token"][starts[i]:ends[i]])] for i in written],
                                         sae, device, run.sink_limit, modes=("clean",))
    out |= {"ce_loss_clean": losses["clean"], "ce_loss_sae": losses["sae"], "ce_loss_zero": losses["zero"],
            "ce_loss_recovered": ce_loss_recovered(losses["clean"], losses["sae"], losses["zero"]),
            "delta_ce": losses["sae"] - losses["clean"], "loss_tokens": count,
            "clean_loss_by": clean_breakdown(clean + clean_written,
                                             [acts.meta["sources"][source[i]] for i in general + written])}
    out["mlp_activity"] = mlp_activity(acts["neuron_tokens"][keep].astype(np.float32))
    return out, density


def mlp_activity(values: np.ndarray) -> dict:
    """How many MLP neurons are active on a token, from the store's random neurons at every kept token.
    SmolLM2's MLPs are SiLU-gated, so a neuron is almost never exactly zero: "active" is counted against
    each neuron's own largest magnitude."""
    peak = np.abs(values).max(0, keepdims=True) + 1e-12
    return {"neurons": int(values.shape[1]), "tokens": int(values.shape[0]),
            "exactly_zero": float((values == 0).mean()),
            "above_tenth_of_peak": float((np.abs(values) > 0.1 * peak).mean()),
            "above_half_of_peak": float((np.abs(values) > 0.5 * peak).mean())}


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
        at = torch.as_tensor(part, dtype=torch.long)
        x_hat = sae.decode_top(codes.indices[at].to(device), codes.values[at].to(device))
        residual += float((x - x_hat).double().pow(2).sum())
        total += float(((resid[part].astype(np.float64) - mean) ** 2).sum())
    return 1 - residual / total


@torch.no_grad()
def spliced_losses(lm, layer, sequences, sae, device, limit, batch_size: int = 32, modes=("clean", "sae", "zero")):
    """Mean next-token loss with the residual after ``layer`` blocks left alone (clean), replaced by the
    SAE's reconstruction, and zeroed; sink positions (norm above ``limit``, the BOS among them) keep their
    own. Also each sequence's clean loss at every predicted token (for ``clean_breakdown``).

    Blocks before the edit see the same input in every mode, so they run once per batch: the clean pass
    keeps the input of block ``layer`` and each edited mode reruns only from there. Only the positions that
    predict a token go through the unembedding (a [tokens, vocabulary] product as large as the blocks)."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))  # similar lengths pad little
    edits = {"clean": None, "sae": lambda h: sae(h), "zero": torch.zeros_like}
    totals, count, clean = dict.fromkeys(modes, 0.0), 0, [None] * len(sequences)
    for start in bar(range(0, len(order), batch_size), desc="next-token loss, spliced"):
        batch = order[start:start + batch_size]
        ids, attention = padded([sequences[i] for i in batch])
        ids, attention = ids.to(device), attention.to(device)
        valid = attention[:, 2:].bool()  # predictions made at positions 1.. (the BOS position is left out)
        targets = ids[:, 2:][valid]
        count += int(valid.sum())
        hidden, block_input = clean_pass(lm, layer, ids, attention)
        for mode in modes:
            if mode != "clean":
                with edited_residual(lm, layer, edits[mode], limit):
                    hidden = rerun_from(lm, layer, block_input)
            logits = lm.model.lm_head(hidden[:, 1:-1][valid]).float()
            loss = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
            totals[mode] += float(loss.sum())
            if mode == "clean":
                for i, row_loss in zip(batch, loss.split(valid.sum(1).tolist())):
                    clean[i] = row_loss.cpu().numpy()
    return {mode: total / count for mode, total in totals.items()}, count, clean


def clean_pass(lm, layer, ids, attention):
    """The model's last hidden states (after its final norm: the unembedding's input), and the arguments
    block ``layer`` (counting from 1) was called with."""
    kept = {}

    def keep(module, args, kwargs):
        kept["args"], kept["kwargs"] = args, kwargs

    handle = lm.layers[layer - 1].register_forward_pre_hook(keep, with_kwargs=True)
    try:
        hidden = lm.model.model(input_ids=ids, attention_mask=attention, use_cache=False).last_hidden_state
    finally:
        handle.remove()
    return hidden, kept


def rerun_from(lm, layer, block_input):
    """The last hidden states when the model runs again from block ``layer`` (counting from 1) on the same
    input: the edit hooked on that block's output applies, and the later blocks see it."""
    args, kwargs = block_input["args"], block_input["kwargs"]
    hidden = None
    for block in list(lm.layers)[layer - 1:]:
        out = block(*args, **kwargs) if hidden is None else block(hidden, *args[1:], **kwargs)
        hidden = out[0] if isinstance(out, tuple) else out
    return lm.model.model.norm(hidden)


def clean_breakdown(losses: list[np.ndarray], sources: list[str]) -> dict:
    """The clean loss by source and by the position of the predicted token (the first token predicted
    is the item's second), so a reader can see where a high mean comes from. The positions are over the
    general text only (``wordnet`` and ``fortunes``), the spliced measures' own items."""
    by_source = {s: float(np.concatenate([l for l, x in zip(losses, sources) if x == s]).mean())
                 for s in sorted(set(sources))}
    general = [l for l, x in zip(losses, sources) if x != "written"]
    position = np.concatenate([np.arange(2, len(l) + 2) for l in general])
    flat = np.concatenate(general)
    by_position = []
    for low, high in zip(POSITION_BINS[:-1], POSITION_BINS[1:]):
        inside = (position >= low) & (position < high)
        if inside.any():
            by_position.append({"from": low, "to": int(min(high - 1, position.max())),
                                "loss": float(flat[inside].mean()), "tokens": int(inside.sum())})
    return {"source": by_source, "position": by_position}
