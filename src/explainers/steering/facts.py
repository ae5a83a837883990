"""The steering chapter's numbers and HTML pieces, read from the steering run."""
from __future__ import annotations

import html
import json
import math
from pathlib import Path

from ..markup import Html
from ..lm.shading import _html
from .charts import highlighted, reproduce_command
from .words import METHODS, MIN_AUC

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


def _fmt(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else "no answer"


def facts(result) -> dict:
    meta = result.meta
    concepts = meta["concept_names"]
    config = meta["config"]
    by = settings_by(result)
    steered = config["concepts"]
    base = by[(steered[0], "feature", 0.0)]
    out = {
        "n_prompts": len(config["prompts"]), "max_new_tokens": config["max_new_tokens"],
        "strengths": ", ".join(f"{s:g}" for s in config["strengths"]), "top_strength": f"{max(config['strengths']):g}",
        "layer": meta["layer"], "n_generations": f"{meta['n_generations']:,}",
        "generation_s": f"{meta['generation_s']:.0f}", "steer_total_s": f"{meta['total_s']:.0f}",
        "min_auc": MIN_AUC, "d_sae": f"{config['chapter']['sae']['d_sae']:,}", "median_norm": f"{meta['median_norm']:.0f}",
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
                f"{c}_raises": f"{f['raises']:.1f}", f"{c}_detector": f"#{f['best_detector']}",
                f"{c}_raises_most": f"{f['raises_most']:.1f}", f"{c}_training_tokens": f"{f['training_tokens']:,}",
                f"{c}_detector_raises": f"{f['raises_best_detector']:.1f}",
                f"{c}_cosine": f"{f['cosine']:.2f}", f"{c}_max": f"{f['max_activation']:.2f}",
                f"{c}_unit_norm": f"{f['unit_norm']:.0f}", f"{c}_direction_norm": f"{f['direction_norm']:.0f}",
                f"{c}_baseline_mentions": sum(by[(c, 'feature', 0.0)]["mentions"])}
    top = max(config["strengths"])
    records = ablation_records()
    if records:
        variants = records[-1]["variants"].values()
        out["ablation_variants"] = len(records[-1]["variants"])
        out["ablation_feature_best"] = f"{max(s['mention_fraction'] for v in variants for s in v['settings'] if s['concept'] == 'golden_gate' and s['method'] == 'feature'):.0%}"
    out["top_feature_loss"] = ", ".join(f"{concepts[c]} {_fmt(by[(c, 'feature', float(top))]['loss'])}" for c in steered)
    out["top_direction_loss"] = ", ".join(f"{concepts[c]} {_fmt(by[(c, 'direction', float(top))]['loss'])}"
                                          for c in steered)
    ex = example(result)
    out |= {"example_prompt": ex["prompt"], "example_strength": f"{ex['setting']['strength']:g}",
            "example_concept": concepts[ex["setting"]["concept"]],
            "example_method": "clamping the feature" if ex["setting"]["method"] == "feature" else "adding the direction"}

    # the rule's target: half the answers mention the concept while the unsteered model's loss on them
    # stays within twice its loss on the unsteered answers
    for c in steered:
        for method in METHODS:
            ok = [s for s in result.meta["settings"] if s["concept"] == c and s["method"] == method and s["strength"] > 0
                  and s["mention_fraction"] >= HALF and math.isfinite(s["loss"]) and s["loss"] <= 2 * base["loss"]]
            out[f"{c}_{method}_target"] = (f"met at {ok[0]['strength']:g}× ({sum(ok[0]['mentions'])} of "
                                           f"{len(ok[0]['mentions'])} answers, loss {ok[0]['loss']:.2f})" if ok else "not met")
            out[f"{c}_{method}_best"] = _fmt_best(best_setting(result, c, method))
    return out


def _fmt_best(s: dict) -> str:
    return (f"{sum(s['mentions'])} of {len(s['mentions'])} at {s['strength']:g}× (loss {_fmt(s['loss'])}, "
            f"{s['added_norm']:.1f}× the median residual length added)")


RECORDS = Path(__file__).resolve().parent / "records"


def ablation_records() -> list[dict]:
    """The recorded ablations (``records/*-ablation.json``), oldest first."""
    return [json.loads(p.read_text()) for p in sorted(RECORDS.glob("*-ablation.json"))]


def ablation_table(record: dict, concept: str = "golden_gate") -> Html:
    """For each variant: the feature it clamped, and the most answers that mentioned the concept at any
    strength (with the loss there), beside the same for the mean-difference direction."""
    rows = []
    for name, variant in record["variants"].items():
        feature = variant["features"][concept]
        cells = []
        for method in METHODS:
            best = max((s for s in variant["settings"] if s["concept"] == concept and s["method"] == method
                        and s["strength"] > 0), key=lambda s: (s["mention_fraction"], -s["strength"]))
            cells.append(f"{best['mention_fraction']:.0%} at {best['strength']:g}× (loss {_fmt(best['loss'])})")
        rows.append(f"<tr><td>{html.escape(name)}</td><td>#{feature['feature']} (AUC {feature['train_auc']:.2f}, "
                    f"raises the words by {feature['raises']:.1f} sd)</td><td>{cells[0]}</td><td>{cells[1]}</td></tr>")
    p = record["provenance"]
    caption = (f"<p class='lm-meta'>Recorded on {html.escape(p['device_name'])}, torch {html.escape(p['torch'])}, "
               f"transformers {html.escape(p['transformers'])}, {html.escape(p['date'][:10])}.</p>")
    return _html(caption + "<div class='lm-scroll'><table class='table lm-table'><thead><tr><th>variant</th>"
                 "<th>feature clamped</th><th>feature: most mentions</th><th>direction: most mentions</th></tr>"
                 f"</thead><tbody>{''.join(rows)}</tbody></table></div>")
