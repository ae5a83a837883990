"""The numbers the superposition chapter quotes, read from its runs (never typed in)."""
from __future__ import annotations

import numpy as np

from ..markup import Html, html_table
from .geometry import DEDICATED, NOT_REPRESENTED, SUPERPOSITION, neighbour_angles


def _list(values, fmt="{:g}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def _range(values, fmt="{:.2f}") -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"between {fmt.format(lo)} and {fmt.format(hi)}"


def _index(toy, which) -> int:
    return int(which(toy.sparsity))


def toy_facts(toy) -> dict:
    t = toy.timeline
    sparsity, kept = toy.sparsity, toy.n_represented_shown
    dense, sparse = _index(toy, np.argmin), _index(toy, np.argmax)
    norms_dense = t["feature_norm"][-1, dense]
    cols = t["W_columns"][-1, dense]
    cosine = float(cols[0] @ cols[1] / (norms_dense[0] * norms_dense[1]))
    first_with = lambda k: next(sp for sp, n in zip(sparsity, kept) if n == k)  # noqa: E731
    all_seeds = toy.n_represented_all_seeds
    n_seeds = all_seeds.shape[1]
    four = kept.index(4) if 4 in kept else dense
    four_cols = t["W_columns"][-1, four][t["feature_norm"][-1, four] > toy.represented_norm]
    return {
        "toy_n": toy.n_features, "toy_m": toy.n_hidden,
        "toy_importance": _list(toy.importance, "{:.3g}"),
        "toy_decay": f"{toy.importance_decay:g}",
        "toy_threshold": f"{toy.represented_norm:g}",
        "toy_sparsities": _list(sparsity),
        "toy_steps": f"{toy.steps:,}", "toy_lr": f"{toy.lr:g}", "toy_batch": toy.batch_size,
        "toy_weight_decay": f"{toy.weight_decay:g}", "toy_seeds": n_seeds,
        "toy_kept": _list(kept, "{}"),
        "dense_s": f"{sparsity[dense]:g}", "dense_kept": kept[dense],
        "dense_top_norms": _list(norms_dense[:2], "{:.2f}"),
        "dense_rest_norm": f"{float(norms_dense[2:].max()):.2f}",
        "dense_cosine": f"{cosine:.3f}",
        "dense_seeds_kept_2": f"{int((all_seeds[dense] == 2).sum())} of {n_seeds}",
        "four_s": f"{first_with(4):g}",
        "four_angles": _list(np.round(neighbour_angles(four_cols)).astype(int), "{}°"), "five_s": f"{first_with(5):g}",
        "sparse_s": f"{sparsity[sparse]:g}", "sparse_kept": kept[sparse],
        "sparse_seeds_kept_5": f"{int((all_seeds[sparse] == 5).sum())} of {n_seeds}",
        "sparse_bias": _range(t["b"][-1, sparse]),
        "pentagon_angles": _range(toy.pentagon_angles_deg, "{:.1f}°"),
        "pentagon_norms": _range(toy.pentagon_feature_norms),
        "represented_rule": toy.represented_rule,
    }


def phase_facts(phase) -> dict:
    t = phase.timeline
    final = t["phase"][-1]  # (density ascending, importance ascending)
    density, r = t["density"], t["relative_importance"]
    D, R = final.shape
    per_density = (final == SUPERPOSITION).sum(-1)
    dense = final[int(np.argmax(density))]
    ignored, dedicated = r[dense == NOT_REPRESENTED], r[dense == DEDICATED]
    return {
        "phase_grid": f"{D} × {R}", "phase_cells": D * R, "phase_seeds": phase.n_seeds,
        "phase_density": f"{density.min():g} to {density.max():g}",
        "phase_density_max": f"{density.max():g}",
        "phase_importance": f"{r.min():g} to {r.max():g}",
        "phase_steps": phase.steps, "phase_lr": f"{phase.lr:g}", "phase_loss": phase.loss,
        "phase_rule": phase.phase_rule,
        "dense_ignored_upto": f"{ignored.max():.2f}" if len(ignored) else "none",
        "dense_dedicated_from": f"{dedicated.min():.2f}" if len(dedicated) else "none",
        "sparse_superposed": f"{int(per_density[int(np.argmin(density))])} of {R}",
        "dense_superposed": f"{int(per_density[int(np.argmax(density))])} of {R}",
        "superposed_cells": phase.superposed_cells,
        "other_cells": phase.other_cells,
    }


def sae_facts(sae) -> dict:
    labels = sae.run_labels
    plain, resampled, wide = labels  # d_sae=5, d_sae=5 + resampling, d_sae=10
    shown = sae.shown
    p, n = sae.feature_probability, sae.n_features
    one_of_any = n * p * (1 - p) ** (n - 1) / (1 - (1 - p) ** n)  # P(exactly one feature | at least one)
    return {
        "sae_single_feature": f"{one_of_any:.0%}",
        "sae_steps": f"{sae.steps:,}", "sae_lr": f"{sae.lr:g}", "sae_batch": sae.batch_size,
        "sae_lambda": f"{sae.l1_coefficient:g}", "sae_seeds": len(sae.seeds),
        "sae_inputs": f"{sae.n_inputs:,}", "sae_p": f"{sae.feature_probability:g}",
        "sae_resample_steps": _list(sae.resample_steps, "{}"),
        "sae_recovered_rule": sae.recovered_rule, "sae_dead_rule": sae.dead_rule,
        "sae_dead_window": f"{sae.dead_window:,}",
        "sae_recovered_at": f"{sae.recovered_cosine:g}",
        "shown_seed": sae.shown_seed,
        "plain_recovered": shown[plain]["recovered"], "plain_dead": shown[plain]["dead"],
        "resampled_recovered": shown[resampled]["recovered"], "resampled_dead": shown[resampled]["dead"],
        "wide_recovered": shown[wide]["recovered"], "wide_dead": shown[wide]["dead"],
        "plain_all_five": sae.all_five_recovered[plain],
        "resampled_all_five": sae.all_five_recovered[resampled],
        "wide_all_five": sae.all_five_recovered[wide],
        "wide_dead_range": _range(sae.dead_latents[wide], "{:.0f}"),
        "sae_explained_variance": _range([v for run in labels for v in sae.explained_variance[run]]),
        "sae_l0": _range([v for run in labels for v in sae.l0[run]]),
        "sae_l0_max": f"{max(v for run in labels for v in sae.l0[run]):.2f}",
        "resampled_min_cosine": f"{float(sae.timeline['final_best_cosine'][labels.index(resampled)].min()):.3f}",
    }


def run_where(runs) -> str:
    toy = runs.toy
    return (f"on {toy.device_name} ({toy.device}), torch {toy.torch_version}; "
            f"{runs.wall_time_s:.1f} s of training for the three runs together")


def facts(runs) -> dict:
    return toy_facts(runs.toy) | phase_facts(runs.phase) | sae_facts(runs.sae) | {
        "run_where": run_where(runs)}


def toy_table(toy) -> Html:
    """One row per sparsity: what the displayed run did and how typical it was among the seeds."""
    t, all_seeds, threshold = toy.timeline, toy.n_represented_all_seeds, toy.represented_norm
    rows = []
    for k, sp in enumerate(toy.sparsity):
        counts = np.bincount(all_seeds[k], minlength=toy.n_features + 1)
        spread = ", ".join(f"{c} seed{'s' if c > 1 else ''} kept {n}" for n, c in enumerate(counts) if c)
        kept = t["feature_norm"][-1, k] > threshold
        angles = neighbour_angles(t["W_columns"][-1, k][kept])
        rows.append((f"{sp:g}", f"{1 - sp:g}", toy.n_represented_shown[k],
                     _list(np.round(angles).astype(int), "{}°"), f"{float(t['loss'][-1, k]):.4f}", spread))
    return html_table(["sparsity S", "density 1 − S", f"features kept (norm > {threshold:g})",
                       "angles between neighbouring kept features", "final loss",
                       f"features kept, over all {all_seeds.shape[1]} seeds"], rows)
