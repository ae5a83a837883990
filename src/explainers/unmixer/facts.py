"""The numbers the un-mixer page quotes, read from the dictionary runs (never typed in)."""
from __future__ import annotations


def facts(runs) -> dict:
    by_lambda = {r.meta["config"]["sparsity"]: r for r in runs}
    last = {s: r.n_frames - 1 for s, r in by_lambda.items()}
    book = by_lambda[0.1]
    out = {
        "drawing": book.meta["config"]["drawing"],
        "n_patches": f"{book.meta['n_patches']:,}",
        "n_atoms": book.meta["config"]["n_atoms"],
        "steps": book.meta["config"]["steps"],
        "batch": book.meta["config"]["batch_size"],
        "lr": book.meta["config"]["lr"],
        "lambdas": ", ".join(f"{s:g}" for s in sorted(by_lambda)),
        "torch_steps_per_s": f"{book.meta['steps_per_s']:,.0f}",
        "train_s": f"{sum(r.meta['train_s'] for r in runs):.1f}",
        "device": f"{book.meta['device']['device_name']} ({book.meta['device']['device']})",
    }
    for s, r in by_lambda.items():
        key = f"{s:g}".replace(".", "_")
        out[f"ev_{key}"] = f"{round(float(r['explained_variance'][last[s]]), 2) + 0.0:.2f}"  # no "-0.00"
        out[f"l0_{key}"] = f"{float(r['l0'][last[s]]):.1f}"
        out[f"dead_{key}"] = f"{int(r['dead'][last[s]])}"
    return out
