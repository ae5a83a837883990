"""The real-model chapter's numbers and HTML pieces (token shading, feature cards, tables), read from the
runs: ``facts(runs)`` gives every number the text quotes."""
from __future__ import annotations

import html
from statistics import median

import numpy as np

from ..markup import Html
from ..lm.shading import lm_html, shaded_tokens, table
from ..feature_browser.render import feature_link
from .random_weights import summary
from .written import controls
from .summaries import POOL_LABELS, mean_interval, median_difference, median_interval, pool_scores, verdict

KIND_NAMES = {"feature": "features", "neuron": "neurons", "basis": "residual coordinates",
              "random": "random residual directions"}

# How the page names the number type the model computed in.
PRECISION = {"float32": "32-bit floats (float32)",
             "bfloat16": "bfloat16: 16-bit floats with float32's range, which this machine's processor "
                         "computes natively"}


def concept_name(label, concepts) -> str:
    return concepts.get(label, label) if label else "no concept"


def polysemantic_sentences(runs) -> Html:
    poly = runs.polysemantic
    concepts = runs.written_concepts
    scale = max(max(s["values"]) for s in poly["sentences"])
    rows = "".join(shaded_tokens(s["tokens"], s["values"], scale, concept_name(s["label"], concepts))
                   for s in poly["sentences"])
    caption = (f"<p class='lm-meta'>MLP neuron {poly['index']} of block {poly['layer'] + 1}, on held-out sentences. "
               f"Red: positive activation (darkest = {scale:.2f}); blue: negative. Hover a token for its value.</p>")
    return lm_html(caption + rows)


def _histogram_svg(counts, edges) -> str:
    top = max(max(counts), 1)
    n = len(counts)
    bars = "".join(
        f'<rect x="{i * 100 / n:.2f}" y="{50 - 48 * c / top:.2f}" width="{100 / n * 0.9:.2f}" '
        f'height="{48 * c / top:.2f}" fill="currentColor" opacity="0.55"/>' for i, c in enumerate(counts))
    return (f'<svg viewBox="0 0 100 58" preserveAspectRatio="none" role="img" aria-label="histogram of '
            f'nonzero activations from {edges[0]:.2f} to {edges[-1]:.2f}">{bars}'
            f'<line x1="0" y1="50.5" x2="100" y2="50.5" stroke="currentColor" stroke-width="0.4"/></svg>')


def feature_cards(runs) -> Html:
    out = []
    for card in runs.cards:
        scale = card["max"]
        snippets = "".join(shaded_tokens(s["tokens"], s["values"], scale) for s in card["snippets"])
        out.append(
            f'<div class="lm-card"><h4>Feature {feature_link(card["feature"])}</h4>'
            f'<div class="lm-meta">chosen as the best detector of: {html.escape(card["why"])} · density '
            f'{card["density"]:.2%} ({card["fires_on"]:,} tokens) · max {scale:.2f}</div>'
            f'<div class="lm-meta">what its strongest training text says it is: {html.escape(card["explanation"])} '
            f'(score on held-out text {card["score"]:.2f})</div>'
            f'{_histogram_svg(card["histogram"], card["edges"])}'
            f'<div class="lm-meta">nonzero activations, {card["edges"][0]:.2f} to {card["edges"][-1]:.2f}</div>'
            f'{snippets}</div>')
    return lm_html('<div class="lm-cards">' + "".join(out) + "</div>")


def metrics_table(runs) -> Html:
    m = runs.metrics
    rows = [
        ("L0 (latents active per token)", f"{m['l0']:.1f}"),
        ("explained variance (held-out tokens)", f"{m['explained_variance']:.3f}"),
        ("next-token loss, clean (nats/token)", f"{m['ce_loss_clean']:.3f}"),
        ("next-token loss, SAE spliced in", f"{m['ce_loss_sae']:.3f}"),
        ("ΔCE: loss added by the SAE (nats/token)", f"{m['delta_ce']:.3f}"),
        ("next-token loss, zero-ablated", f"{m['ce_loss_zero']:.3f}"),
        ("CE loss recovered (against zero-ablation)", f"{m['ce_loss_recovered']:.3f}"),
        ("dead latents (never fired)", f"{m['dead_fraction']:.1%}"),
        (f"dense latents (fire on > {m['dense_cutoff']:.0%} of tokens)", f"{m['dense_fraction']:.1%}"),
    ]
    return table(("measure", "value"), [(html.escape(a), b) for a, b in rows], numeric=(1,))


def _detection(runs):
    return {(r["concept"], r["kind"]): r for r in runs.detection}


def detection_table(runs) -> Html:
    rows = _detection(runs)
    out = []
    for c, name in runs.concepts.items():
        f, n = rows[(c, "feature")], rows[(c, "neuron")]
        block, index = divmod(n["unit"], runs.mlp_width)
        out.append((html.escape(name), runs.train_counts[c], runs.held_counts[c],
                    f"{f['auc']:.3f} <small>({f['low']:.3f}–{f['high']:.3f})</small>",
                    f"{n['auc']:.3f} <small>({n['low']:.3f}–{n['high']:.3f})</small>",
                    f"{feature_link(f['unit'])} · {block + 1}.{index}"))
    return table(("concept", "training items", "held-out items", "feature AUC (95 %)", "neuron AUC (95 %)",
                  "feature · neuron (block.index)"), out, numeric=(1, 2, 3, 4))


def interpretation_table(runs, per_kind: int = 4) -> Html:
    """Examples: each concept unit kind's best and a few random units, with explanation and score."""
    records = runs.interpretation
    out = []
    for kind in ("feature", "neuron"):
        for why in ("concept", "random"):
            chosen = [r for r in records if r["kind"] == kind and r["why"] == why][:per_kind]
            for r in chosen:
                out.append((f"{kind} {_unit(r, runs)}", why, html.escape(r["explanation"]), f"{r['score']:.2f}"))
    return table(("unit", "drawn as", "explanation (from training text)", "score (held out)"), out, numeric=(3,))


def _unit(record, runs) -> str:
    if record["kind"] == "feature":
        return feature_link(record["unit"])
    block, index = divmod(record["unit"], runs.mlp_width)
    return f"{block + 1}.{index}"


def specificity_table(runs) -> Html:
    by = {(r["concept"], r["kind"]): r for r in runs.specificity}
    out = []
    for c, name in runs.concepts.items():
        f, n = by[(c, "feature")], by[(c, "neuron")]
        winner = "feature" if f["share"] > n["share"] else "neuron" if n["share"] > f["share"] else "tie"
        out.append((html.escape(name), f"{f['share']:.0%}", f"{n['share']:.0%}", f"{f['base_rate']:.1%}", winner))
    return table(("concept", "feature: top 1 % about it", "neuron: top 1 % about it", "all held-out items about it",
                  "more specific"), out, numeric=(1, 2, 3))


def paired_table(runs) -> Html:
    """Features against each other pool: the paired difference of held-out AUC, best unit against best unit
    and with pools matched for size."""
    rows = []
    for kind, p in runs.paired.items():
        m = runs.matched["against"][kind]
        rows.append((f"features − {KIND_NAMES[kind]} ({runs.pool_sizes[kind]:,})",
                     f"{p['mean']:+.3f} <small>({p['interval'][0]:+.3f} to {p['interval'][1]:+.3f})</small>",
                     f"{p['wins']} / {p['losses']}",
                     f"{m['mean']:+.3f} <small>({m['interval'][0]:+.3f} to {m['interval'][1]:+.3f})</small>",
                     f"{m['draws_won']:.0%}"))
    return table(("comparison (pool size)", "best unit: mean AUC difference (95 %)", "concepts won / lost",
                  f"best of {runs.matched_n:,}: mean difference (95 %)", "draws features win"), rows,
                 numeric=(1, 3, 4))


def control_table(controls: list[dict], what: str, concepts: dict) -> Html:
    """One unit's AUC on each concept and each related control group, against the other written topics."""
    rows = [(html.escape(r["description"] or f"{concepts.get(r['name'], r['name'])}: its concept, held out"), r["n"],
             f"{r['auc']:.2f} <small>({r['low']:.2f}–{r['high']:.2f})</small>") for r in controls]
    return _join(lm_html(f"<p class='lm-meta'>{html.escape(what)}</p>"),
                 table(("sentences", "n", "AUC against other topics (95 %)"), rows, numeric=(1, 2)))


def _join(*parts: Html) -> Html:
    return Html("".join(p.text for p in parts))


def polysemantic_controls(runs) -> Html:
    poly, first = runs.polysemantic, runs.first_polysemantic
    concepts = runs.written_concepts
    out = control_table(poly["controls"], f"Neuron {poly['index']} of block {poly['layer'] + 1}", concepts)
    if first["unit"] != poly["unit"] or first["concepts"] != poly["concepts"]:
        out = _join(control_table(first["controls"], f"The first candidate: neuron {first['index']} of block "
                                                     f"{first['layer'] + 1}", concepts), out)
    return out


def feature_controls(runs) -> Html:
    second = runs.second
    return _join(*(control_table(second[f"{c}_feature"]["controls"], f"Feature #{second[f'{c}_feature']['unit']}",
                                 runs.written_concepts) for c in ("golden_gate", "apple_company")))


def _medians(records, kind, why) -> float:
    scores = [r["score"] for r in records if r["kind"] == kind and r["why"] == why]
    return float(median(scores)) if scores else float("nan")


def facts(runs) -> dict:
    """Every number the chapter's text quotes, and the sentences that depend on them."""
    m = runs.metrics
    rows = _detection(runs)
    concepts = list(runs.concepts)
    f_auc = np.array([rows[(c, "feature")]["auc"] for c in concepts])
    n_auc = np.array([rows[(c, "neuron")]["auc"] for c in concepts])
    matched_f = np.array(runs.matched["pools"]["feature"]["per_draw_mean"])
    matched_n = np.array(runs.matched["pools"]["neuron"]["per_draw_mean"])
    records = runs.interpretation
    spec = {(r["concept"], r["kind"]): r for r in runs.specificity}
    second, poly = runs.second, runs.polysemantic
    a, b = poly["concepts"]
    written = runs.written_concepts
    held = list(runs.held_counts.values())
    tokens, items = runs.tokens_by_source, runs.items_by_source

    def compare(x, y, better, worse, same):
        return better if x > y + 0.005 else worse if y > x + 0.005 else same

    out = {
        "model_name": runs.model_file.removesuffix(".gguf"),
        "n_layers": runs.n_layers, "width": runs.width, "mlp_width": runs.mlp_width,
        "layer": runs.layer,
        "precision": PRECISION[runs.dtype],
        "n_tokens": f"{runs.n_tokens:,}", "n_items": f"{runs.n_items:,}",
        "wordnet_tokens": f"{tokens['wordnet']:,}", "fortune_tokens": f"{tokens['fortunes']:,}",
        "written_tokens": f"{tokens['written']:,}",
        "wordnet_items": f"{items['wordnet']:,}",
        "fortune_items": f"{items['fortunes']:,}",
        "written_items": f"{items['written']:,}",
        "per_concept": runs.per_concept,
        "min_held_out": runs.min_held_out,
        "n_concepts": len(concepts), "held_min": min(held), "held_max": max(held),
        "train_tokens": f"{runs.train_tokens:,}", "outliers": f"{runs.outliers:,}",
        "d_sae": f"{runs.d_sae:,}", "k": runs.k,
        "sae_steps": f"{runs.sae_steps:,}", "batch_size": f"{runs.batch_size:,}",
        "training_samples": f"{runs.training_samples:,}",
        "l0": m["l0"], "explained_variance": m["explained_variance"], "unexplained": 1 - m["explained_variance"],
        "ce_loss_recovered": m["ce_loss_recovered"], "delta_ce": m["delta_ce"],
        "ce_clean": m["ce_loss_clean"], "ce_sae": m["ce_loss_sae"], "ce_zero": m["ce_loss_zero"],
        "loss_tokens": f"{m['loss_tokens']:,}", "held_out_tokens": f"{m['held_out_tokens']:,}",
        "dead_pct": f"{m['dead_fraction']:.1%}", "dense_pct": f"{m['dense_fraction']:.1%}",
        "dense_cutoff": f"{m['dense_cutoff']:.0%}",
        "n_features": f"{runs.pool_sizes['feature']:,}", "n_neurons": f"{runs.pool_sizes['neuron']:,}",
        "n_basis": f"{runs.pool_sizes['basis']:,}",
        "mean_feature_auc": float(f_auc.mean()), "mean_neuron_auc": float(n_auc.mean()),
        "feature_wins": int((f_auc > n_auc).sum()), "neuron_wins": int((n_auc > f_auc).sum()),
        "matched_n": f"{runs.matched_n:,}", "matched_draws": runs.matched_draws,
        "matched_feature": float(np.median(matched_f)), "matched_neuron": float(np.median(matched_n)),
        "matched_feature_low": float(np.percentile(matched_f, 2.5)), "matched_feature_high": float(np.percentile(matched_f, 97.5)),
        "matched_neuron_low": float(np.percentile(matched_n, 2.5)), "matched_neuron_high": float(np.percentile(matched_n, 97.5)),
        "matched_feature_better": f"{runs.matched['against']['neuron']['draws_won']:.0%}",
        "bootstrap": f"{runs.bootstrap:,}",
        "n_random_features": sum(r["kind"] == "feature" and r["why"] == "random" for r in records),
        "n_random_neurons": sum(r["kind"] == "neuron" and r["why"] == "random" for r in records),
        "median_random_feature": _medians(records, "feature", "random"),
        "median_random_neuron": _medians(records, "neuron", "random"),
        "median_concept_feature": _medians(records, "feature", "concept"),
        "median_concept_neuron": _medians(records, "neuron", "concept"),
        "top_share": f"{runs.top_share:.0%}",
        "apple_fruit_feature_auc": second["apple_fruit_feature"]["auc"],
        "apple_fruit_neuron_auc": second["apple_fruit_neuron"]["auc"],
        "apple_company_feature_auc": second["apple_company_feature"]["auc"],
        "apple_company_neuron_auc": second["apple_company_neuron"]["auc"],
        "golden_gate_feature": f"#{second['golden_gate_feature']['unit']}",
        "golden_gate_feature_auc": second["golden_gate_feature"]["auc"],
        "golden_gate_neuron_auc": second["golden_gate_neuron"]["auc"],
        "golden_gate_held_out": second["golden_gate_feature"]["held_out"],
        "n_written_test": runs.n_written_test,
        "poly_neuron": f"{poly['index']}", "poly_block": poly["layer"] + 1,
        "poly_a": concept_name(a, written), "poly_b": concept_name(b, written),
        "poly_auc_a": poly["test_auc"][a], "poly_auc_b": poly["test_auc"][b],
        "dog_features": ", ".join(f"#{f} ({c:.2f})" for f, c in zip(runs.pets["dog"]["features"][:3],
                                                                      runs.pets["dog"]["correlation"][:3])),
        "cat_features": ", ".join(f"#{f} ({c:.2f})" for f, c in zip(runs.pets["cat"]["features"][:3],
                                                                      runs.pets["cat"]["correlation"][:3])),
        "run_where": (f"{runs.device_name} ({runs.device}, {runs.torch_threads} threads), torch {runs.torch_version}, "
                      f"transformers {runs.transformers_version}; activations at {runs.tokens_per_s:,.0f} tokens/s, "
                      f"SAE trained in {runs.train_s:.0f} s, analysis in {runs.analysis_s:.0f} s"),
    }
    if "dog" in runs.concepts:
        out |= {"dog_feature_share": f"{spec[('dog', 'feature')]['share']:.0%}",
                "dog_neuron_share": f"{spec[('dog', 'neuron')]['share']:.0%}",
                "dog_base_rate": f"{spec[('dog', 'feature')]['base_rate']:.1%}",
                "dog_feature": f"#{spec[('dog', 'feature')]['unit']}"}
    feature_spec = float(np.mean([r["share"] for r in runs.specificity if r["kind"] == "feature"]))
    neuron_spec = float(np.mean([r["share"] for r in runs.specificity if r["kind"] == "neuron"]))
    out |= paired_facts(runs) | interpretation_facts(records) | control_facts(runs) | clean_loss_facts(m)
    out |= record_facts(runs)
    activity = m["mlp_activity"]
    out |= {"mlp_neurons": activity["neurons"], "mlp_zero": f"{activity['exactly_zero']:.1%}",
            "mlp_tenth": f"{activity['above_tenth_of_peak']:.1%}", "mlp_half": f"{activity['above_half_of_peak']:.2%}",
            "mlp_verdict": ("by that measure most neurons are quiet on a typical token, though almost none is exactly zero"
                            if activity["above_tenth_of_peak"] < 0.25 else
                            "by that measure many neurons are active on a typical token")}
    neuron_specific = [runs.concepts[r["concept"]] for r in runs.specificity if r["kind"] == "neuron"
                       and r["share"] > spec[(r["concept"], "feature")]["share"]]
    out |= {"spec_feature": feature_spec, "spec_neuron": neuron_spec, "spec_top_items": runs.specificity[0]["top_items"],
            "spec_neuron_wins": len(neuron_specific), "spec_neuron_concepts": ", ".join(neuron_specific) or "none"}
    diff, low, high = mean_interval([spec[(c, "feature")]["share"] - spec[(c, "neuron")]["share"] for c in concepts])
    out |= {"spec_diff": diff, "spec_diff_low": low, "spec_diff_high": high,
            "spec_verdict": verdict(low, high, "the features' strongest held-out activations are more often about their concept than the neurons'",
                                    "the neurons' strongest held-out activations are more often about their concept than the features'",
                                    "the interval includes zero: neither is shown to be more specific")}
    verdicts = {}
    out |= {name: compare(*args) for name, args in verdicts.items()}
    return out


def paired_facts(runs) -> dict:
    """Features against neurons (and the residual controls), paired: the verdicts follow the intervals."""
    out = {}
    for kind, p in runs.paired.items():
        m = runs.matched["against"][kind]
        out |= {f"paired_{kind}": p["mean"], f"paired_{kind}_low": p["interval"][0], f"paired_{kind}_high": p["interval"][1],
                f"matched_{kind}_diff": m["mean"], f"matched_{kind}_diff_low": m["interval"][0],
                f"matched_{kind}_diff_high": m["interval"][1], f"matched_{kind}_won": f"{m['draws_won']:.0%}"}
    p, m = runs.paired["neuron"], runs.matched["against"]["neuron"]
    out["detection_verdict"] = verdict(*p["interval"], "the best single feature detects the concepts better than the best single neuron",
                                       "the best single neuron detects the concepts better than the best single feature",
                                       "the interval of the difference includes zero: neither the best feature nor the best neuron is shown to detect better")
    out["matched_verdict"] = verdict(*m["interval"], "features come out ahead", "neurons come out ahead",
                                     "the interval includes zero: neither pool is shown to be ahead")
    controls = [verdict(*runs.paired[k]["interval"], "ahead of", "behind", "level with")
                + f" {KIND_NAMES[k]}" for k in ("basis", "random") if k in runs.paired]
    out["controls_verdict"] = " and ".join(controls)
    return out


def interpretation_facts(records) -> dict:
    pools = pool_scores(records)
    out = {}
    for kind, values in pools.items():
        median_, low, high = median_interval(values)
        out |= {f"interp_{kind}": median_, f"interp_{kind}_low": low, f"interp_{kind}_high": high}
    diff, low, high = median_difference(pools["feature"], pools["neuron"])
    out |= {"interp_diff": diff, "interp_diff_low": low, "interp_diff_high": high}
    out["interpretation_verdict"] = verdict(low, high, "explanations predict random features better than random neurons",
                                            "explanations predict random neurons better than random features",
                                            "the interval includes zero: explanations are not shown to predict one better than the other")
    floor_low = out["interp_shuffled_high"]
    above = [POOL_LABELS[k] for k in ("feature", "neuron", "basis", "random") if k in pools and out[f"interp_{k}_low"] > floor_low]
    out["floor_verdict"] = (("the " + " and the ".join(above) + " score above it") if above else
                            "no pool scores clearly above it")
    return out


def control_facts(runs) -> dict:
    """What the control sentences say about each candidate neuron: a group related to both of its concepts
    that fires it means one broader meaning; a group related to one concept widens that side only."""
    poly, first = runs.polysemantic, runs.first_polysemantic
    concepts = runs.written_concepts
    table = controls()["related"]
    out = {"first_poly_neuron": f"{first['index']}", "first_poly_block": first["layer"] + 1,
           "first_poly_a": concept_name(first["concepts"][0], concepts),
           "first_poly_b": concept_name(first["concepts"][1], concepts)}
    for name, p in (("poly", poly), ("first_poly", first)):
        a, b = p["concepts"]
        shared = set(table.get(a, ())) & set(table.get(b, ()))
        fired = [r for r in p["controls"] if r["control"] and r["low"] > 0.5]
        both = [r["description"] for r in fired if r["name"] in shared]
        one = [r["description"] for r in fired if r["name"] not in shared]
        if both:
            text = (f"it also fires reliably on {' and on '.join(both)}, which both of its concepts belong to"
                    + (f" (and on {' and on '.join(one)})" if one else "")
                    + ": it looks like one broader meaning, not two unrelated ones")
        elif one:
            text = (f"it also fires reliably on {' and on '.join(one)}, so one of its meanings is broader than "
                    f"its concept; no control group shared by the two fires it, so the two meanings stay unrelated")
        else:
            text = "none of its control groups fires it reliably above chance"
        out[f"{name}_controls_verdict"] = text
        out[f"{name}_confounded"] = bool(both)
    for concept in ("golden_gate", "apple_company"):
        fired = [r["description"] for r in runs.second[f"{concept}_feature"]["controls"] if r["control"] and r["low"] > 0.5]
        out[f"{concept}_feature_controls"] = (f"fires reliably on {' and on '.join(fired)} as well" if fired else
                                              "fires on none of its control groups reliably above chance")
    return out


def clean_loss_facts(metrics) -> dict:
    by = metrics["clean_loss_by"]
    first, last = by["position"][0], by["position"][-1]
    return {"clean_first": first["loss"], "clean_first_to": first["to"], "clean_last": last["loss"],
            "clean_last_from": last["from"], "clean_wordnet": by["source"].get("wordnet", float("nan")),
            "clean_fortunes": by["source"].get("fortunes", float("nan")),
            "clean_written": by["source"].get("written", float("nan"))}


def random_weights_table(runs) -> Html:
    """The real model's measures beside the recorded random-weights control's, computed the same way."""
    record = runs.records.get("random_weights")
    if record is None:
        return lm_html("<p class='lm-meta'>No random-weights record yet.</p>")
    real, control = summary(runs.trained, runs.analysis), record["summary"]

    def interp(s, kind):
        m, low, high = s["interpretation"][kind]
        return f"{m:.2f} <small>({low:.2f}–{high:.2f})</small>"

    rows = [("explained variance (held-out tokens)", f"{real['explained_variance']:.3f}", f"{control['explained_variance']:.3f}")]
    rows += [(f"detection: mean held-out AUC, best {KIND_NAMES[k][:-1] if k != 'random' else 'random direction'}",
              f"{real['detection'][k]:.3f}", f"{control['detection'][k]:.3f}") for k in real["detection"] if k in control["detection"]]
    rows += [(f"explanation score, median of {POOL_LABELS[k]} (95 %)", interp(real, k), interp(control, k))
             for k in real["interpretation"] if k in control["interpretation"]]
    p = record["provenance"]
    caption = (f"<p class='lm-meta'>Random weights: recorded on {html.escape(p['device_name'])} ({p['device']}), "
               f"torch {p['torch']}, transformers {p['transformers']}, {p['date'][:10]}, by "
               f"<code>{html.escape(p['command'])}</code>.</p>")
    return _join(table(("measure", "SmolLM2 (this build)", "same architecture, random weights"), rows, numeric=(1, 2)),
                 lm_html(caption))


def record_facts(runs) -> dict:
    out = {}
    scale = runs.records.get("scale")
    if scale:
        points = scale["points"]
        out |= {"scale_smallest": f"{points[0]['vectors']:,}", "scale_smallest_ev": points[0]["held_out_explained_variance"],
                "scale_full": f"{points[-1]['vectors']:,}", "scale_full_ev": points[-1]["held_out_explained_variance"],
                "scale_date": scale["provenance"]["date"][:10], "scale_device": scale["provenance"]["device_name"]}
        if scale.get("reference"):
            r = scale["reference"]
            out |= {"gpu_vectors": f"{r['vectors']:,}", "gpu_ev": r["held_out_explained_variance"], "gpu_layer": r["layer"],
                    "gpu_d_sae": f"{r['d_sae']:,}", "gpu_device": r["provenance"]["device_name"],
                    "gpu_date": r["provenance"]["date"][:10]}
    control = runs.records.get("random_weights")
    if control:
        c, real = control["summary"], summary(runs.trained, runs.analysis)
        out |= {"rw_ev": c["explained_variance"], "rw_feature_auc": c["detection"]["feature"],
                "rw_neuron_auc": c["detection"]["neuron"], "rw_interp_feature": c["interpretation"]["feature"][0],
                "rw_interp_neuron": c["interpretation"]["neuron"][0],
                "rw_date": control["provenance"]["date"][:10], "rw_device": control["provenance"]["device_name"],
                "rw_verdict": verdict(real["interpretation"]["feature"][1] - c["interpretation"]["feature"][2],
                                      real["interpretation"]["feature"][2] - c["interpretation"]["feature"][1],
                                      "the real model's random features score above the random-weights model's, "
                                      "and the two intervals do not overlap",
                                      "the random-weights model's random features score above the real model's",
                                      "the two intervals overlap: this test does not tell the real model's features "
                                      "from those of a model that learned nothing")}
    return out


def problem_fix_table(runs) -> Html:
    """The seed's table of problem and fix, with this page's measurements in place of invented examples."""
    f = facts(runs)
    rows = [
        ("Superposition",
         f"The model has more things to represent than dimensions: its residual stream has {f['width']} "
         f"numbers per token for everything it knows.",
         f"A dictionary {f['d_sae']} features wide, eight times the stream, each token written with {f['k']} "
         f"of them; it keeps {f['explained_variance']:.2f} of the variance."),
        ("Polysemanticity",
         f"Neuron {f['poly_neuron']} of block {f['poly_block']} fires for {f['poly_a']} and for {f['poly_b']} "
         f"(held-out AUC {f['poly_auc_a']:.2f} and {f['poly_auc_b']:.2f}).",
         f"Single features detect WordNet concepts: mean held-out AUC {f['mean_feature_auc']:.3f}, against "
         f"{f['mean_neuron_auc']:.3f} for single neurons; {f['detection_verdict']}."),
        ("The black box",
         "Reading a unit's number tells you nothing until someone says what it stands for.",
         f"Automatic explanations of random features score a median {f['interp_feature']:.2f} on held-out text, "
         f"against {f['interp_shuffled']:.2f} for an explanation written for another unit; "
         f"{f['unexplained']:.2f} of the variance stays unexplained."),
    ]
    return table(("idea", "the problem, in this model", "what the SAE does here, measured"),
                 [tuple(html.escape(c) for c in row) for row in rows])
