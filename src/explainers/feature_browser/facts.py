"""The numbers the feature-browser page quotes, read from the ``train.evidence`` Timeline (no torch)."""
from __future__ import annotations

import numpy as np


def facts(ev) -> dict:
    config = ev.meta["config"]
    n_live, d_sae = len(ev["feature"]), ev.meta["d_sae"]
    score = ev["score"].astype(np.float64)
    categories = ev.meta["categories"]
    return {
        "d_sae": f"{d_sae:,}", "n_live": f"{n_live:,}",
        "kept_tokens": f"{ev.meta['kept_tokens']:,}",
        "median_score": float(np.median(score)), "score_above_half": f"{np.mean(score >= 0.5):.0%}",
        "with_category": f"{np.mean([bool(c) for c in categories]):.0%}",
        "top_snippets": config["top"], "weak_snippets": config["weak"], "weak_share": f"{config['weak_share']:.0%}",
        "before": config["window"][0], "after": config["window"][1], "lens_tokens": config["lens"],
        "evidence_s": f"{ev.meta.get('wall_time_s', 0):.0f}",
        "dead_sentence": ("Every feature fired at least once: none is dead." if n_live == d_sae else
                          f"The {d_sae - n_live:,} features that never fired (dead) have no view; their numbers "
                          f"say so."),
    }
