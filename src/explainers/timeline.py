"""A Timeline: what one training run (or benchmark) recorded, frame by frame.

``frames`` holds arrays whose first axis is the frame (a training step, an episode, a checkpoint);
``fixed`` holds arrays that do not change over the run (a data sample, a loss landscape);
``meta`` holds plain JSON values: the config, seed, device, library versions, wall time and facts.
Arrays are stored as float32 (or smaller) so Bokeh can ship them as compact binary buffers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np


def _compact(array) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64 and (array.size == 0 or np.abs(array).max() < 2**31):
        return array.astype(np.int32)
    return array


@dataclass
class Timeline:
    frames: dict[str, np.ndarray] = field(default_factory=dict)
    fixed: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.frames = {name: _compact(a) for name, a in self.frames.items()}
        self.fixed = {name: _compact(a) for name, a in self.fixed.items()}
        lengths = {name: len(a) for name, a in self.frames.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"every frame array needs the same first axis, got {lengths}")
        json.dumps(self.meta)  # meta must be plain JSON: fail here, not when caching

    @property
    def n_frames(self) -> int:
        return len(next(iter(self.frames.values()))) if self.frames else 0

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.frames:
            return self.frames[name]
        return self.fixed[name]

    def thinned(self, max_frames: int) -> "Timeline":
        """The same run with at most ``max_frames`` frames, evenly spread and keeping the last: what a
        chart shows of a run that recorded more steps than a reader can scrub."""
        keep = display_frames(self.n_frames, max_frames)
        return Timeline({name: a[keep] for name, a in self.frames.items()}, self.fixed, self.meta)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flatten into named arrays for an .npz file."""
        out = {f"frames/{k}": v for k, v in self.frames.items()}
        out.update({f"fixed/{k}": v for k, v in self.fixed.items()})
        out["meta.json"] = np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8)
        return out

    @classmethod
    def from_arrays(cls, arrays) -> "Timeline":
        meta = json.loads(bytes(arrays["meta.json"]).decode())
        frames = {k.removeprefix("frames/"): arrays[k] for k in arrays if k.startswith("frames/")}
        fixed = {k.removeprefix("fixed/"): arrays[k] for k in arrays if k.startswith("fixed/")}
        return cls(frames=frames, fixed=fixed, meta=meta)


def display_frames(n_steps: int, max_frames: int = 200) -> np.ndarray:
    """Indices of the steps to keep for display: all of them, or an even spread that keeps the last."""
    if n_steps <= max_frames:
        return np.arange(n_steps)
    return np.unique(np.linspace(0, n_steps - 1, max_frames).round().astype(int))
