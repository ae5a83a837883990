"""The steering chapter's held-out run as a record (``records/*-steered.json``), read instead of generating
the answers again when it is exactly the run this build would make.

Two machines can train SAEs that differ in their last bits, and then a feature's index names a different
feature. So a record carries the fingerprint of everything its answers depend on: the run's cache key
(its settings, its code and every explainers module that code imports, the model's files), a hash of the
SAE's weights and of every token's code as this build computed them, and the torch and transformers
versions. A build whose fingerprint differs measures the run itself.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..lm import stages
from ..timeline import Timeline

KIND = "steered"
SAE_ARRAYS = ("W_enc", "b_enc", "W_dec", "b_dec", "scale")


def fingerprint(chapter: stages.ChapterConfig, run_key: str) -> dict:
    """What a record must match: ``run_key`` (the run's cache key) and the build's SAE, codes and libraries."""
    import torch
    import transformers

    trained, codes = stages.train(chapter), stages.codes(chapter)
    digest = hashlib.sha256()
    for array in [trained[name] for name in SAE_ARRAYS] + [codes["indices"], codes["values"]]:
        digest.update(str(array.dtype).encode() + str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).data)
    return {"run_key": run_key, "sae_and_codes": digest.hexdigest(), "torch": torch.__version__,
            "transformers": transformers.__version__}


def as_record(timeline: Timeline, inputs: dict) -> dict:
    """What ``benchmarks/steering_run.py`` writes: the run's meta and arrays, and its ``inputs``."""
    meta = {k: v for k, v in timeline.meta.items() if k != "cache"}
    return {"inputs": inputs, "meta": meta, "fixed": {k: v.tolist() for k, v in timeline.fixed.items()},
            "run": meta["run"], "transformers": meta["transformers"]}


def matching(folder: Path, inputs: dict) -> Timeline | None:
    """The newest record in ``folder`` made with exactly ``inputs``, as the run's Timeline, or None."""
    for path in sorted(Path(folder).glob(f"*-{KIND}.json"), reverse=True):
        record = json.loads(path.read_text())
        if record["inputs"] == inputs:
            fixed = {k: np.asarray(v, dtype=np.float32) for k, v in record["fixed"].items()}
            return Timeline(fixed=fixed, meta=record["meta"] | {"recorded": record["provenance"] | {"file": path.name}})
    return None
