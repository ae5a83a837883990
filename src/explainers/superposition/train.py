"""The superposition chapter's runs: the toy model at five sparsities, the phase diagram, and the SAEs
on the pentagon's hidden layer (torch, cached; ``toy`` and ``pentagon_sae`` hold the training)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .pentagon_sae import PentagonSAEConfig, train_pentagon_sae
from .toy import PhaseConfig, ToyConfig, phase_diagram, train_toy_model


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


def runs(config: ChapterConfig | None = None) -> dict:
    """``{"toy", "phase", "sae"}``: the chapter's three runs (from the cache after the first build)."""
    config = config or ChapterConfig()
    return {"toy": train_toy_model(config.toy), "phase": phase_diagram(config.phase),
            "sae": train_pentagon_sae(config.sae)}
