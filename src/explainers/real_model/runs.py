"""The real-model chapter's runs, as ``charts`` and ``facts`` read them (``runs()``), and a pipeline small
enough for tests (``tiny_config()``). The runs come from ``train`` (the SAE's training and everything
measured with it, cached) and from ``records/``.

The typed fields are what the page quotes; each holds the plain JSON the analysis stored (a record per
concept, unit or card), so the feature browser and the records read the same values."""
from __future__ import annotations

from dataclasses import dataclass

from ..lm.stages import ChapterConfig, book_config
from ..runs import Runs
from ..timeline import Timeline
from .train import analyse, recorded, tiny_config, train

__all__ = ["RealModelRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class RealModelRuns(Runs):
    trained: Timeline  # the SAE's training run (arrays per logged step)
    analysis: Timeline  # everything measured with it (arrays: density, the pet sentences' latents)
    records: dict  # runs too long for a build, recorded with their device and date (``records/``)
    # the model, the text and the activation store
    model_file: str
    n_layers: int
    width: int  # the residual stream's width
    mlp_width: int  # neurons per block
    layer: int  # the block whose output the SAE reads
    dtype: str  # what the model computed in
    n_tokens: int
    n_items: int
    tokens_by_source: dict  # wordnet / fortunes / written -> tokens
    items_by_source: dict
    tokens_per_s: float
    transformers_version: str
    per_concept: int  # WordNet items per concept
    min_held_out: int
    # the SAE
    d_sae: int
    k: int
    batch_size: int
    training_samples: int
    dead_after_tokens: int
    log_every: int
    train_tokens: int
    outliers: int
    sae_steps: int
    train_s: float
    device: str
    device_name: str
    torch_version: str
    torch_threads: int | None
    # what was measured with it
    metrics: dict  # L0, explained variance, CE losses, dead and dense fractions
    concepts: dict  # concept -> its name
    train_counts: dict  # concept -> training items
    held_counts: dict  # concept -> held-out items
    detection: tuple[dict, ...]  # each concept x pool's best unit and its held-out AUC
    paired: dict  # pool -> features minus that pool, paired over concepts
    matched: dict  # pools matched for size
    matched_n: int
    matched_draws: int
    bootstrap: int
    pool_sizes: dict
    specificity: tuple[dict, ...]
    top_share: float
    interpretation: tuple[dict, ...]  # each unit's explanation and its score on held-out text
    written_concepts: dict
    cards: tuple[dict, ...]
    polysemantic: dict  # the polysemantic neuron, its controls and sentences
    first_polysemantic: dict
    second: dict  # the written test's best units per concept
    pets: dict
    pet_sentences: dict
    n_written_test: int
    analysis_s: float

    @classmethod
    def from_timelines(cls, trained: Timeline, analysis: Timeline, records: dict) -> "RealModelRuns":
        t, a = trained.meta, analysis.meta
        collect, config, sae, where = t["collect"], t["config"], t["config"]["sae"], t["run"]
        activations = config["activations"]
        return cls(
            trained, analysis, records,
            collect["model"], collect["n_layers"], collect["width"], collect["mlp_width"], activations["layer"],
            activations.get("dtype", "float32"), collect["n_tokens"], collect["n_items"], collect["tokens_by_source"],
            collect["items_by_source"], collect["tokens_per_s"], collect["transformers"],
            activations["corpus"]["per_concept"], activations["corpus"]["min_held_out"],
            sae["d_sae"], sae["k"], sae["batch_size"], sae["training_tokens"], sae["dead_after_tokens"],
            sae["log_every"], t["train_tokens"], t["outliers"], t["steps"], t["train_s"],
            where["device"], where["device_name"], where["torch"], where.get("torch_threads"),
            a["metrics"], a["concepts"], a["train_counts"], a["held_counts"], tuple(a["detection"]), a["paired"],
            a["matched"], a["matched_n"], a["matched_draws"], a["bootstrap"], a["pool_sizes"],
            tuple(a["specificity"]), a["top_share"], tuple(a["interpretation"]), a["written_concepts"],
            tuple(a["cards"]), a["polysemantic"], a["first_polysemantic"], a["second"], a["pets"],
            a["pet_sentences"], a["n_written_test"], a["analysis_s"])


def runs(config: ChapterConfig | None = None) -> RealModelRuns:
    """The chapter's runs, from the cache when nothing changed, and its records."""
    config = config or book_config()
    return RealModelRuns.from_timelines(train(config), analyse(config), recorded())
