"""The dictionary's settings: shared by the training code and the in-page widget (which must not
import torch to read them)."""
from __future__ import annotations

from dataclasses import dataclass

# The sparsity strengths precomputed for the chapter's control. With patches at unit variance per pixel:
# 0 leaves the atoms as noise, 0.03-0.1 gives clean edges, 0.15-0.2 kills some, 0.3 kills nearly all.
SPARSITY_GRID = (0.0, 0.01, 0.03, 0.1, 0.15, 0.2, 0.3)


@dataclass
class DictionaryConfig:
    drawing: str = "house"  # a name from drawings.DRAWINGS
    sparsity: float = 0.1  # λ, the price of using an atom (see SPARSITY_GRID)
    n_atoms: int = 64
    steps: int = 500
    batch_size: int = 256
    lr: float = 3e-3
    seed: int = 0
    stride: int = 2  # pixels between patches cut from the drawing
    init_norm: float = 0.1  # length of each initial atom: small, so early steps do not overshoot
    checkpoint_every: int = 10  # steps between frames of the Timeline
