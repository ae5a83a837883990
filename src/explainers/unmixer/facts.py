"""The numbers the un-mixer page quotes, read from the dictionary runs (never typed in)."""
from __future__ import annotations


def facts(runs) -> dict:
    book = runs.book
    out = {
        "drawing": runs.drawing_name,
        "n_patches": f"{runs.n_patches:,}",
        "n_atoms": runs.n_atoms,
        "steps": runs.steps,
        "batch": runs.batch_size,
        "lr": runs.lr,
        "lambdas": ", ".join(f"{s:g}" for s in sorted(d.sparsity for d in runs.dictionaries)),
        "torch_steps_per_s": f"{book.steps_per_s:,.0f}",
        "train_s": f"{sum(d.train_s for d in runs.dictionaries):.1f}",
        "device": f"{runs.device_name} ({runs.device})",
    }
    for d in runs.dictionaries:
        key = f"{d.sparsity:g}".replace(".", "_")
        out[f"ev_{key}"] = f"{round(float(d.explained_variance[-1]), 2) + 0.0:.2f}"  # no "-0.00"
        out[f"l0_{key}"] = f"{float(d.l0[-1]):.1f}"
        out[f"dead_{key}"] = f"{int(d.dead[-1])}"
    return out
