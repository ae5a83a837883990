"""What the book's other pages say about a feature: the concept the real-model page chose it for, with its
held-out detection AUC; the feature cards that page shows; the steering page's result with it.

Every read of those pages' runs is in this module (``real_model_notes`` and ``steering_notes``), so that
a change to their records is adapted here and nowhere else. The notes are plain JSON:
``{feature: [{"page": ..., "anchor": ..., "text": ..., "concept": ...}]}``, with ``feature`` as a string.
"""
from __future__ import annotations

from ..lm.stages import ChapterConfig, book_config

REAL_MODEL = "real-model"
STEERING = "steering"


def notes(config: ChapterConfig | None = None, steering: bool = True) -> dict:
    """Every note on every feature of the SAE of ``config`` (the book's by default). The steering page's
    result is added only when it steers with this same SAE."""
    from ..real_model.train import analyse

    config = config or book_config()
    out: dict[str, list] = {}
    for feature, note in real_model_notes(analyse(config).meta):
        out.setdefault(str(feature), []).append(note)
    if steering:
        for feature, note in steering_notes(config):
            out.setdefault(str(feature), []).append(note)
    return out


def _note(page: str, anchor: str, text: str, concept: str = "") -> dict:
    return {"page": page, "anchor": anchor, "text": text, "concept": concept}


def real_model_notes(meta: dict):
    """(feature, note) pairs from the real-model page's analysis (``real_model.train.analyse``'s meta)."""
    for r in meta["detection"]:
        if r["kind"] == "feature":
            name = meta["concepts"].get(r["concept"], r["concept"])
            yield r["unit"], _note(REAL_MODEL, "monosemanticity-measured-three-ways",
                                   f"the best single feature for {name} (WordNet): held-out AUC {r['auc']:.3f} "
                                   f"(95 % interval {r['low']:.3f}–{r['high']:.3f})", r["concept"])
    names = meta["written_concepts"]
    for key, r in meta["second"].items():
        concept, _, kind = key.rpartition("_")
        if kind == "feature":
            yield r["unit"], _note(REAL_MODEL, "the-written-test-two-apples-and-a-bridge",
                                   f"the best single feature for {names.get(concept, concept)} (written sentences): "
                                   f"held-out AUC {r['auc']:.3f}", concept)
    for card in meta["cards"]:
        yield card["feature"], _note(REAL_MODEL, "feature-cards", f"shown as a feature card: {card['why']}")


def steering_notes(config: ChapterConfig):
    """(feature, note) pairs from the steering page's run, when it steers this SAE."""
    from ..steering import facts as steering_facts
    from ..steering import train as steering_train
    from ..steering.runs import runs as steering_runs
    from ..steering.words import works

    steering_config = steering_train.book_config()
    if steering_config.chapter != config:
        return
    steered = steering_runs(steering_config)
    for concept, chosen in steered.features.items():
        name = steered.concept_names.get(concept, concept)
        setting = steering_facts.headline(steered, concept, "feature")
        if setting is None:
            said = f"no strength steered the training prompts toward {name}"
        else:
            n, hits = len(setting["mentions"]), sum(setting["mentions"])
            verdict = "works" if works(setting, steered.human) else "does not work"
            edit = steering_facts.EDIT_NAMES.get(steering_config.recipe.edit, steering_config.recipe.edit)
            said = (f"at {setting['strength']:g}× its largest activation ({edit}), {hits} of {n} held-out answers "
                    f"mentioned {name}; by the page's rule it {verdict}")
        yield chosen["feature"], _note(STEERING, "measured-on-held-out-prompts",
                                       f"the feature the steering page steers toward {name} with: {said}", concept)
