"""The random-weights control (after Heap et al. 2025): the chapter's whole pipeline (activations, SAE,
detection, interpretation) run again on SmolLM2 with every weight re-initialised, so that the real model's
scores can be read against what an SAE finds in a model that learned nothing. Too long for a build on two
CPU cores, so ``benchmarks/random_weights.py`` records it; ``summary`` condenses a run the same way for
the real model and for the control."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .summaries import median_interval, pool_scores

KINDS = ("feature", "neuron", "basis", "random")


def control_config(config):
    return replace(config, activations=replace(config.activations, weights="random"))


def summary(trained, analysis) -> dict:
    """The numbers the page sets side by side for the real model and the control."""
    meta, m = analysis.meta, analysis.meta["metrics"]
    detection = {kind: float(np.mean([r["auc"] for r in meta["detection"] if r["kind"] == kind]))
                 for kind in KINDS if any(r["kind"] == kind for r in meta["detection"])}
    matched = {kind: float(np.mean(p["per_draw_mean"])) for kind, p in meta["matched"]["pools"].items()}
    interpretation = {kind: median_interval(v) for kind, v in pool_scores(meta["interpretation"]).items()}
    return {"weights": trained.meta["config"]["activations"].get("weights", "trained"), "explained_variance": m["explained_variance"],
            "l0": m["l0"], "dead_fraction": m["dead_fraction"], "ce_loss_clean": m["ce_loss_clean"],
            "delta_ce": m["delta_ce"], "detection": detection, "matched": matched, "matched_n": meta["matched_n"],
            "interpretation": {k: list(v) for k, v in interpretation.items()},
            "paired_neuron": meta["paired"]["neuron"]["interval"], "train_tokens": trained.meta["train_tokens"]}
