"""The steering chapter's numbers and HTML pieces, read from the steering and interpretation runs."""
from __future__ import annotations

import html
import math

from ..embed import Html
from .report import _html, shaded_tokens
from .steering import METHODS
from .steering_chart import highlighted, reproduce_command

HALF = 0.5  # "steered": at least half of the answers mention the concept


def settings_by(result) -> dict:
    return {(s["concept"], s["method"], s["strength"]): s for s in result.meta["settings"]}


def first_steered(result, concept: str, method: str):
    """The weakest strength at which at least half the answers mention the concept, or None."""
    for strength in result.meta["config"]["strengths"]:
        s = settings_by(result)[(concept, method, float(strength))]
        if strength > 0 and s["mention_fraction"] >= HALF:
            return s
    return None


def best_setting(result, concept: str, method: str) -> dict:
    """The steered setting with the most mentions (the weakest such strength on a tie)."""
    rows = [s for s in result.meta["settings"]
            if s["concept"] == concept and s["method"] == method and s["strength"] > 0]
    return max(rows, key=lambda s: (s["mention_fraction"], -s["strength"]))


def _names(items) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def verdicts(result, concepts: dict) -> dict:
    steered = result.meta["config"]["concepts"]
    n = len(result.meta["config"]["prompts"])
    out = {}
    for method in METHODS:
        worked = [c for c in steered if first_steered(result, c, method)]
        failed = [c for c in steered if c not in worked]
        if worked:
            parts = [f"{concepts[c]} from {first_steered(result, c, method)['strength']:g}×" for c in worked]
            text = f"made at least half of the answers mention {_names(parts)}"
        else:
            text = "never made half of the answers mention its concept"
        if failed and worked:
            best = [best_setting(result, c, method) for c in failed]
            text += "; it never did for " + _names(
                f"{concepts[b['concept']]} (at best {round(b['mention_fraction'] * n)} of {n}, at {b['strength']:g}×)"
                for b in best)
        elif failed:
            best = [best_setting(result, c, method) for c in failed]
            text += ": at best " + _names(
                f"{round(b['mention_fraction'] * n)} of {n} for {concepts[b['concept']]}"
                + (f" (at {b['strength']:g}×)" if b["mention_fraction"] > 0 else " at every strength")
                for b in best)
        out[method] = text
    return out


def example(result) -> dict:
    """One generation to reproduce: the first steered setting found, else the strongest feature clamp."""
    config = result.meta["config"]
    steered = (first_steered(result, c, m) for m in ("feature", "direction") for c in config["concepts"])
    s = next((s for s in steered if s), None) or best_setting(result, config["concepts"][0], "feature")
    i = next((i for i, m in enumerate(s["mentions"]) if m), 0)
    return {"setting": s, "index": i, "prompt": config["prompts"][i], "text": s["texts"][i]}


def example_block(result, concepts: dict) -> Html:
    ex = example(result)
    s = ex["setting"]
    feature = result.meta["features"][s["concept"]]["feature"]
    what = (f"feature #{feature} clamped to {s['strength']:g} × its largest activation"
            if s["method"] == "feature" else
            f"the mean-difference direction for {concepts[s['concept']]}, {s['strength']:g} × as long as that clamp adds")
    command = reproduce_command(s["concept"], s["method"], s["strength"])
    return _html(
        f"<table class='table lm-table'><tbody>"
        f"<tr><th>prompt</th><td>{html.escape(ex['prompt'])}</td></tr>"
        f"<tr><th>steering</th><td>{html.escape(what)}, at block {result.meta['layer']}, every position</td></tr>"
        f"<tr><th>decoding</th><td>greedy, at most {result.meta['config']['max_new_tokens']} new tokens</td></tr>"
        f"<tr><th>answer</th><td>{highlighted(s['concept'], ex['text'])}</td></tr>"
        f"<tr><th>command</th><td><code>{html.escape(command)}</code></td></tr>"
        f"</tbody></table>")


def labels_table(interp, concepts: dict, shown_snippets: int = 2) -> Html:
    rows = []
    for f in interp.meta["features"]:
        scale = max((max(s["values"]) for s in f["snippets"]), default=1.0)
        snippets = "".join(shaded_tokens(s["tokens"], s["values"], scale) for s in f["snippets"][:shown_snippets])
        kind = ("best detector of " + " and ".join(
                    f"{html.escape(concepts.get(c, c))} (training AUC {a:.2f})"
                    for c, a in zip(f["picked_for"], f["picked_auc"]))
                if f["picked_for"] else "drawn at random")
        rows.append(
            f"<tr><td>#{f['feature']}<br><span class='lm-label'>{kind}</span></td><td>{snippets}</td>"
            f"<td>{html.escape(f['model_label']) or '<i>(nothing)</i>'}</td><td class='num'>{f['model_score']:.2f}</td>"
            f"<td>{html.escape(f['corpus_label'])}</td><td class='num'>{f['corpus_score']:.2f}</td></tr>")
    return _html("<div class='lm-scroll'><table class='table lm-table'><thead><tr><th>feature</th>"
                 "<th>top training snippets</th><th>the model's label</th><th>score</th>"
                 "<th>corpus matcher's label</th><th>score</th></tr></thead>"
                 f"<tbody>{''.join(rows)}</tbody></table></div>")


def _fmt(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else "no answer"


def facts(result, interp, concepts: dict) -> dict:
    meta = result.meta
    config = meta["config"]
    by = settings_by(result)
    steered = config["concepts"]
    base = by[(steered[0], "feature", 0.0)]
    out = {
        "n_prompts": len(config["prompts"]), "max_new_tokens": config["max_new_tokens"],
        "strengths": ", ".join(f"{s:g}" for s in config["strengths"]), "top_strength": f"{max(config['strengths']):g}",
        "layer": meta["layer"], "n_generations": f"{meta['n_generations']:,}",
        "generation_s": f"{meta['generation_s']:.0f}", "steer_total_s": f"{meta['total_s']:.0f}",
        "min_auc": config["min_auc"], "d_sae": f"{config['chapter']['sae']['d_sae']:,}", "median_norm": f"{meta['median_norm']:.0f}",
        "baseline_loss": _fmt(base["loss"]),
        "feature_verdict": verdicts(result, concepts)["feature"],
        "direction_verdict": verdicts(result, concepts)["direction"],
        "steered_names": _names([concepts[c] for c in steered]),
        "steer_where": (f"{meta['run']['device_name']} ({meta['run']['device']}), torch {meta['run']['torch']}, "
                        f"transformers {meta['transformers']}"),
    }
    for c in steered:
        f = meta["features"][c]
        out |= {f"{c}_feature": f"#{f['feature']}", f"{c}_auc": f"{f['train_auc']:.3f}",
                f"{c}_cosine": f"{f['cosine']:.2f}", f"{c}_max": f"{f['max_activation']:.2f}",
                f"{c}_unit_norm": f"{f['unit_norm']:.0f}", f"{c}_direction_norm": f"{f['direction_norm']:.0f}",
                f"{c}_baseline_mentions": sum(by[(c, 'feature', 0.0)]["mentions"])}
    top = max(config["strengths"])
    out["top_feature_loss"] = ", ".join(f"{concepts[c]} {_fmt(by[(c, 'feature', float(top))]['loss'])}" for c in steered)
    out["top_direction_loss"] = ", ".join(f"{concepts[c]} {_fmt(by[(c, 'direction', float(top))]['loss'])}"
                                          for c in steered)
    ex = example(result)
    out |= {"example_prompt": ex["prompt"], "example_strength": f"{ex['setting']['strength']:g}",
            "example_concept": concepts[ex["setting"]["concept"]],
            "example_method": "clamping the feature" if ex["setting"]["method"] == "feature" else "adding the direction"}

    feats = interp.meta["features"]
    good = 0.5
    out |= {
        "n_labelled": len(feats), "n_random": interp.meta["config"]["n_random"],
        "n_concept_features": sum(f["kind"] == "concept" for f in feats),
        "n_items": interp.meta["n_items"], "n_sentence_items": interp.meta["n_sentence_items"],
        "n_general_items": interp.meta["n_general_items"], "item_tokens": interp.meta["config"]["item_tokens"],
        "n_snippets": interp.meta["config"]["snippets"], "good_score": f"{good:.1f}",
        "model_good": sum(f["model_score"] >= good for f in feats),
        "corpus_good": sum(f["corpus_score"] >= good for f in feats),
        "model_mean": sum(f["model_score"] for f in feats) / len(feats),
        "corpus_mean": sum(f["corpus_score"] for f in feats) / len(feats),
        "model_empty": sum(f["model_predicted"] == 0 for f in feats),
        "label_s": f"{interp.meta['label_s']:.0f}", "interp_total_s": f"{interp.meta['total_s']:.0f}",
        "min_concept_auc": interp.meta["config"]["min_concept_auc"],
    }
    return out
