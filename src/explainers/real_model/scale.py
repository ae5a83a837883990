"""What scale buys: the chapter's SAE trained again on random shares of its training vectors, each for as
many samples per vector as the book's own run, and scored on the same held-out vectors. Too long for a
build on two CPU cores, so ``benchmarks/sae_scale.py`` records it."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from ..device import describe, pick
from ..lm.sae import train_sae
from ..lm.stages import held_out_rows, stages

SHARES = (1 / 16, 1 / 8, 1 / 4, 1 / 2)


def scale_points(config, shares=SHARES, reference: dict | None = None, log=print) -> dict:
    """Held-out explained variance against training vectors read; ``reference``, another recorded run
    (such as a GPU run of a wider SAE) to show beside them, is kept with its provenance."""
    device = pick()
    run = stages(config)
    rows = np.flatnonzero(run.keep & ~run.test)
    held = held_out_rows(run.keep, run.test)
    resid = torch.from_numpy(run.acts["resid"].astype(np.float32))
    order = np.random.default_rng(config.sae.seed).permutation(rows)  # a share is a random subset of vectors
    points = []
    for share in shares:
        n = int(len(rows) * share)
        sae_config = replace(config.sae, training_tokens=int(config.sae.training_tokens * share))
        started = time.perf_counter()
        _, curves, _ = train_sae(resid[torch.from_numpy(np.sort(order[:n]))], sae_config, device,
                                 held_out=resid[torch.from_numpy(held)])
        points.append({"share": share, "vectors": n, "samples": sae_config.training_tokens,
                       "held_out_explained_variance": float(curves["held_out_explained_variance"][-1]),
                       "seconds": round(time.perf_counter() - started, 1)})
        log(f"{n:,} vectors: held-out explained variance {points[-1]['held_out_explained_variance']:.3f}")
    points.append({"share": 1.0, "vectors": int(run.trained.meta["train_tokens"]),
                   "samples": config.sae.training_tokens,
                   "held_out_explained_variance": float(run.trained["held_out_explained_variance"][-1]),
                   "seconds": run.trained.meta["train_s"]})
    import transformers

    return {"layer": run.layer, "d_sae": config.sae.d_sae, "k": config.sae.k, "points": points,
            "held_out_vectors": int(len(held)), "reference": reference, "transformers": transformers.__version__, "run": describe(device)}
