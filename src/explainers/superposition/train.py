"""The superposition chapter's settings: the toy model at five sparsities, the phase diagram, and the SAEs
on the pentagon's hidden layer (``toy`` and ``pentagon_sae`` hold the cached training, ``runs`` the runs)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .pentagon_sae import PentagonSAEConfig
from .toy import PhaseConfig, ToyConfig


@dataclass
class ChapterConfig:
    toy: ToyConfig = field(default_factory=ToyConfig)
    phase: PhaseConfig = field(default_factory=PhaseConfig)
    sae: PentagonSAEConfig = field(default_factory=PentagonSAEConfig)  # its toy must be ``toy``


def tiny_config() -> ChapterConfig:
    """The same runs at toy sizes, for tests: seconds, not minutes."""
    toy = ToyConfig(n_seeds=2, steps=60, batch_size=64, eval_size=256)
    return ChapterConfig(toy, PhaseConfig(n_density=3, n_importance=3, n_seeds=1, steps=30, levels=4),
                         PentagonSAEConfig(toy=toy, n_seeds=2, steps=40, batch_size=32, n_inputs=512,
                                           eval_size=256, dead_window=64, max_frames=10))

