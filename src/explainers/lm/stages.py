"""The language-model chapters' shared pipeline, each stage a cached run done once:

corpus → activations (``activations.collect``) → SAE (``train``) → codes (``codes``): the SAE's code for
every token. The real-model chapter's analysis, the labelling of features and the steering runs all read
these same codes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick
from ..timeline import Timeline, display_frames
from .activations import ActivationConfig, book_config as activation_config, collect, model_files
from .codes import SparseCodes, encode
from .corpus import CorpusConfig
from .sae import SAEConfig, TopKSAE, train_sae

OUTLIER_FACTOR = 10.0  # tokens whose residual norm passes 10 × the median are attention sinks: left out
DENSITY_BINS = np.linspace(-5, 0, 26)  # log10 of a latent's firing density

# What each device trains: a GPU reads about ten times the text and trains a wider SAE on it.
SAE_BY_DEVICE = {
    "cpu": {"d_sae": 4608, "training_tokens": 300_000},
    "cuda": {"d_sae": 16384, "training_tokens": 8_000_000},
}


@dataclass(frozen=True)
class ChapterConfig:
    activations: ActivationConfig = field(default_factory=ActivationConfig)
    sae: SAEConfig = field(default_factory=SAEConfig)
    eval_items: int = 200  # held-out items for the spliced next-token loss


# The residual stream after this block (of 30) is what the chapters' SAE reads. The recorded steering
# search (steering/records/*-search.json) found features that steer there and hardly any at block 12.
BOOK_LAYER = 20


def book_config(device: str | None = None) -> ChapterConfig:
    device = device or pick().type
    return ChapterConfig(activation_config(device, layer=BOOK_LAYER), SAEConfig(**SAE_BY_DEVICE[device]))


def tiny_config() -> ChapterConfig:
    """A run small enough for tests: a few hundred items, a small SAE."""
    return ChapterConfig(ActivationConfig(corpus=CorpusConfig(per_concept=12, other_items=60, fortunes=40, min_held_out=2),
                                          random_neurons=16),
                         SAEConfig(d_sae=256, k=8, training_tokens=8192, batch_size=256), eval_items=8)


def kept_tokens(acts: Timeline) -> np.ndarray:
    """True for tokens in the statistics: not a sink whose norm dwarfs the rest."""
    norms = np.linalg.norm(acts["resid"].astype(np.float32), axis=1)
    return norms < OUTLIER_FACTOR * np.median(norms)


def token_test(acts: Timeline) -> np.ndarray:
    """True for tokens of held-out items."""
    return acts["item_test"].astype(bool)[acts["item"]]


def density_histogram(density: np.ndarray) -> np.ndarray:
    """Counts of latents per log10-density bin (the dead ones, density 0, are not in any bin)."""
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


def _files(config: ChapterConfig):
    return model_files(config.activations)


@cached(data=_files)
def train(config: ChapterConfig) -> Timeline:
    """The TopK SAE, trained on the residual vectors of the training items (sinks left out)."""
    device = pick()
    acts = collect(config.activations)
    keep = kept_tokens(acts)
    test = token_test(acts)
    resid = torch.from_numpy(acts["resid"].astype(np.float32))
    rows = torch.from_numpy(np.flatnonzero(keep & ~test))
    held_rows = torch.from_numpy(np.flatnonzero(keep & test)[:: max(1, int((keep & test).sum()) // 4000)])
    sae, curves, info = train_sae(resid[rows], config.sae, device, held_out=resid[held_rows])
    shown = display_frames(len(curves["step"]), 120)
    hist = np.stack([density_histogram(d) for d in curves["density"]])
    return Timeline(
        frames={"step": curves["step"][shown], "tokens": curves["tokens"][shown],
                "explained_variance": curves["explained_variance"][shown],
                "held_out_explained_variance": curves["held_out_explained_variance"][shown],
                "dead_fraction": curves["dead_fraction"][shown], "density_hist": hist[shown]},
        fixed={name: getattr(sae, name).detach().cpu().numpy() for name in ("W_enc", "b_enc", "W_dec", "b_dec")}
        | {"scale": sae.scale.cpu().numpy().reshape(()), "density_bins": DENSITY_BINS},
        meta={"config": asdict(config), "train_tokens": int(len(rows)), "outliers": int((~keep).sum()),
              "collect": {k: acts.meta[k] for k in ("model", "n_layers", "width", "mlp_width", "n_items",
                                                     "n_tokens", "tokens_by_source", "items_by_source",
                                                     "labels", "corpus_s", "load_s", "collect_s",
                                                     "tokens_per_s", "transformers")},
              "collect_wall_s": acts.meta.get("wall_time_s"), **info, "run": describe(device)},
    )


@cached(data=_files)
def codes(config: ChapterConfig) -> Timeline:
    """Every token's SAE code, as TopK leaves it: ``k`` (latent, value) pairs."""
    device = pick()
    acts = collect(config.activations)
    sae = sae_from(train(config), device)
    indices, values = encode(sae, acts["resid"], device)
    return Timeline(fixed={"indices": indices, "values": values},
                    meta={"config": asdict(config), "d_sae": int(sae.W_enc.shape[1]), "run": describe(device)})


def sparse_codes(config: ChapterConfig) -> SparseCodes:
    done = codes(config)
    return SparseCodes(done["indices"], done["values"], done.meta["d_sae"])
