"""The language-model chapters' shared pipeline, each stage a cached run done once:

corpus → activations (``activations.collect``) → SAE (``train``) → codes (``codes``): the SAE's code for
every token. ``stages(config)`` gathers them into one ``LanguageRun``, with the kept-token mask and the one
attention-sink cutoff; the real-model analysis, the steering runs and the feature browser all read it.
"""
from __future__ import annotations

import functools
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
    """True for tokens in the statistics: not a sink whose norm passes the store's cutoff."""
    return acts["norm"].astype(np.float32) < acts.meta["sink_limit"]


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


def held_out_rows(keep: np.ndarray, test: np.ndarray) -> np.ndarray:
    """About 4,000 held-out vectors, evenly spaced: the SAE's held-out curve is measured on them."""
    rows = np.flatnonzero(keep & test)
    return rows[:: max(1, len(rows) // 4000)]


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
    held_rows = torch.from_numpy(held_out_rows(keep, test))
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


@dataclass(eq=False)
class LanguageRun:
    """One chapter config's stages, built once: what every language-model page reads."""
    config: ChapterConfig
    acts: Timeline  # the activation store (``activations.collect``)
    trained: Timeline  # the SAE's run (``train``)
    codes: SparseCodes  # every token's SAE code
    keep: np.ndarray  # [tokens] bool: not an attention sink
    test: np.ndarray  # [tokens] bool: a token of a held-out item

    @property
    def layer(self) -> int:
        return self.config.activations.layer

    @property
    def sink_limit(self) -> float:
        """Positions whose residual norm passes this are sinks: left out of statistics, never edited."""
        return float(self.acts.meta["sink_limit"])

    @property
    def median_norm(self) -> float:
        return float(self.acts.meta["median_norm"])

    @property
    def n_items(self) -> int:
        return len(self.acts["item_source"])

    def item_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each item's first token row and one past its last (items are stored contiguously, in order)."""
        starts = np.searchsorted(self.acts["item"], np.arange(self.n_items))
        return starts, np.append(starts[1:], len(self.acts["item"]))

    def sae(self, device=None) -> TopKSAE:
        return sae_from(self.trained, device)


@functools.lru_cache(maxsize=4)
def stages(config: ChapterConfig) -> LanguageRun:
    """The stages of ``config``, each from the cache when nothing changed, held once per process."""
    acts = collect(config.activations)
    return LanguageRun(config, acts, train(config), sparse_codes(config), kept_tokens(acts), token_test(acts))
