"""The chapter's two cached runs: collect activations (``activations.collect``), then train the SAE."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick
from ..timeline import Timeline, display_frames
from .activations import ActivationConfig, collect, model_files
from .sae import SAEConfig, TopKSAE, train_sae

OUTLIER_FACTOR = 10.0  # tokens whose residual norm passes 10 × the median are attention sinks: left out
DENSITY_BINS = np.linspace(-5, 0, 26)  # log10 of a latent's firing density

# What each device trains: a GPU collects far more text and trains a wider SAE on it.
BY_DEVICE = {
    "cpu": {"general_tokens": 60_000, "d_sae": 2304, "training_tokens": 250_000},
    "cuda": {"general_tokens": 2_000_000, "d_sae": 9216, "training_tokens": 8_000_000},
}


@dataclass(frozen=True)
class ChapterConfig:
    activations: ActivationConfig = field(default_factory=ActivationConfig)
    sae: SAEConfig = field(default_factory=SAEConfig)
    eval_pieces: int = 8  # held-out pieces of general text for the spliced next-token loss
    # The written training sentences are a few thousand tokens among tens of thousands of Python
    # documentation: shown this many times, they get a fair share of the dictionary (labels unused).
    written_repeats: int = 4


def book_config(device: str | None = None) -> ChapterConfig:
    budget = BY_DEVICE[device or pick().type]
    return ChapterConfig(ActivationConfig(general_tokens=budget["general_tokens"]),
                         SAEConfig(d_sae=budget["d_sae"], training_tokens=budget["training_tokens"]))


def kept_tokens(acts: Timeline) -> np.ndarray:
    """True for tokens in the statistics: not a sink whose norm dwarfs the rest."""
    norms = np.linalg.norm(acts["resid"].astype(np.float32), axis=1)
    return norms < OUTLIER_FACTOR * np.median(norms)


def density_histogram(density: np.ndarray) -> np.ndarray:
    """Counts of latents per log10-density bin; the dead ones (density 0) in the first bin's place."""
    live = density[density > 0]
    counts, _ = np.histogram(np.log10(live), DENSITY_BINS)
    return counts


def sae_from(timeline: Timeline, device=None) -> TopKSAE:
    device = device or torch.device("cpu")
    w_enc = torch.from_numpy(timeline["W_enc"].astype(np.float32))
    sae = TopKSAE(w_enc.shape[0], w_enc.shape[1], timeline.meta["config"]["sae"]["k"])
    with torch.no_grad():
        for name in ("W_enc", "b_enc", "W_dec", "b_dec", "scale"):
            getattr(sae, name).copy_(torch.from_numpy(np.asarray(timeline[name], dtype=np.float32)))
    return sae.to(device).eval().requires_grad_(False)


@cached(data=lambda config: model_files(config.activations))
def train(config: ChapterConfig) -> Timeline:
    device = pick()
    acts = collect(config.activations)
    keep = kept_tokens(acts)
    test = acts["test"].astype(bool)
    resid = torch.from_numpy(acts["resid"].astype(np.float32))
    written = acts["sentence"] >= 0
    rows = np.flatnonzero(keep & ~test & ~written)
    written_rows = np.flatnonzero(keep & ~test & written)
    train_rows = torch.from_numpy(np.concatenate([rows, *[written_rows] * config.written_repeats]))
    held_rows = torch.from_numpy(np.flatnonzero(keep & test)[:2000])
    sae, curves, info = train_sae(resid[train_rows], config.sae, device, held_out=resid[held_rows])
    shown = display_frames(len(curves["step"]), 120)
    hist = np.stack([density_histogram(d) for d in curves["density"]])
    dead_now = np.array([float(np.mean(d == 0)) for d in curves["density"]])
    return Timeline(
        frames={"step": curves["step"][shown], "tokens": curves["tokens"][shown],
                "explained_variance": curves["explained_variance"][shown],
                "held_out_explained_variance": curves["held_out_explained_variance"][shown],
                "dead_fraction": curves["dead_fraction"][shown], "silent_in_window": dead_now[shown],
                "density_hist": hist[shown]},
        fixed={name: getattr(sae, name).detach().cpu().numpy() for name in ("W_enc", "b_enc", "W_dec", "b_dec")}
        | {"scale": sae.scale.cpu().numpy().reshape(()), "density_bins": DENSITY_BINS},
        meta={"config": asdict(config), "train_tokens": int(len(rows) + len(written_rows)),
              "written_train_tokens": int(len(written_rows)),
              "outliers": int((~keep).sum()), "n_tokens": acts.meta["n_tokens"],
              "collect": {k: acts.meta[k] for k in ("load_s", "collect_s", "tokens_per_s", "n_pieces",
                                                     "n_test_pieces", "model", "n_layers", "width",
                                                     "mlp_width", "transformers")},
              "collect_cache": acts.meta.get("cache"), "collect_wall_s": acts.meta.get("wall_time_s"),
              **info, "run": describe(device)},
    )
