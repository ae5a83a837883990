"""The real-model chapter's numbers and HTML pieces (token shading, feature cards, tables), read from the
runs: ``facts(runs)`` gives every number the text quotes."""
from __future__ import annotations

import html
from statistics import median

import numpy as np

from ..markup import Html
from ..lm.shading import _html, shaded_tokens, table

# How the page names the number type the model computed in.
PRECISION = {"float32": "32-bit floats (float32)",
             "bfloat16": "bfloat16: 16-bit floats with float32's range, which this machine's processor "
                         "computes natively"}


def concept_name(label, concepts) -> str:
    return concepts.get(label, label) if label else "no concept"


def polysemantic_sentences(analysis) -> Html:
    poly = analysis.meta["polysemantic"]
    concepts = analysis.meta["written_concepts"]
    scale = max(max(s["values"]) for s in poly["sentences"])
    rows = "".join(shaded_tokens(s["tokens"], s["values"], scale, concept_name(s["label"], concepts))
                   for s in poly["sentences"])
    caption = (f"<p class='lm-meta'>MLP neuron {poly['index']} of block {poly['layer'] + 1}, on held-out sentences. "
               f"Red: positive activation (darkest = {scale:.2f}); blue: negative. Hover a token for its value.</p>")
    return _html(caption + rows)


def _histogram_svg(counts, edges) -> str:
    top = max(max(counts), 1)
    n = len(counts)
    bars = "".join(
        f'<rect x="{i * 100 / n:.2f}" y="{50 - 48 * c / top:.2f}" width="{100 / n * 0.9:.2f}" '
        f'height="{48 * c / top:.2f}" fill="currentColor" opacity="0.55"/>' for i, c in enumerate(counts))
    return (f'<svg viewBox="0 0 100 58" preserveAspectRatio="none" role="img" aria-label="histogram of '
            f'nonzero activations from {edges[0]:.2f} to {edges[-1]:.2f}">{bars}'
            f'<line x1="0" y1="50.5" x2="100" y2="50.5" stroke="currentColor" stroke-width="0.4"/></svg>')


def feature_cards(analysis) -> Html:
    out = []
    for card in analysis.meta["cards"]:
        scale = card["max"]
        snippets = "".join(shaded_tokens(s["tokens"], s["values"], scale) for s in card["snippets"])
        out.append(
            f'<div class="lm-card"><h4>Feature #{card["feature"]}</h4>'
            f'<div class="lm-meta">chosen for: {html.escape(card["why"])} · density {card["density"]:.2%} '
            f'({card["fires_on"]:,} tokens) · max {scale:.2f}</div>'
            f'{_histogram_svg(card["histogram"], card["edges"])}'
            f'<div class="lm-meta">nonzero activations, {card["edges"][0]:.2f} to {card["edges"][-1]:.2f}</div>'
            f'{snippets}</div>')
    return _html('<div class="lm-cards">' + "".join(out) + "</div>")


def metrics_table(runs) -> Html:
    m = runs[1].meta["metrics"]
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


def _detection(meta):
    return {(r["concept"], r["kind"]): r for r in meta["detection"]}


def detection_table(runs) -> Html:
    meta = runs[1].meta
    rows = _detection(meta)
    mlp_width = runs[0].meta["collect"]["mlp_width"]
    out = []
    for c, name in meta["concepts"].items():
        f, n = rows[(c, "feature")], rows[(c, "neuron")]
        block, index = divmod(n["unit"], mlp_width)
        out.append((html.escape(name), meta["train_counts"][c], meta["held_counts"][c],
                    f"{f['auc']:.3f} <small>({f['low']:.3f}–{f['high']:.3f})</small>",
                    f"{n['auc']:.3f} <small>({n['low']:.3f}–{n['high']:.3f})</small>",
                    f"#{f['unit']} · {block + 1}.{index}"))
    return table(("concept", "training items", "held-out items", "feature AUC (95 %)", "neuron AUC (95 %)",
                  "feature · neuron (block.index)"), out, numeric=(1, 2, 3, 4))


def interpretation_table(runs, per_kind: int = 4) -> Html:
    """Examples: each concept unit kind's best and a few random units, with explanation and score."""
    records = runs[1].meta["interpretation"]
    out = []
    for kind in ("feature", "neuron"):
        for why in ("concept", "random"):
            chosen = [r for r in records if r["kind"] == kind and r["why"] == why][:per_kind]
            for r in chosen:
                out.append((f"{kind} {_unit(r, runs)}", why, html.escape(r["explanation"]), f"{r['score']:.2f}"))
    return table(("unit", "drawn as", "explanation (from training text)", "score (held out)"), out, numeric=(3,))


def _unit(record, runs) -> str:
    if record["kind"] == "feature":
        return f"#{record['unit']}"
    block, index = divmod(record["unit"], runs[0].meta["collect"]["mlp_width"])
    return f"{block + 1}.{index}"


def specificity_table(runs) -> Html:
    meta = runs[1].meta
    by = {(r["concept"], r["kind"]): r for r in meta["specificity"]}
    out = [(html.escape(name), f"{by[(c, 'feature')]['share']:.0%}", f"{by[(c, 'neuron')]['share']:.0%}",
            f"{by[(c, 'feature')]['base_rate']:.1%}") for c, name in meta["concepts"].items()]
    return table(("concept", "feature: top 1 % about it", "neuron: top 1 % about it", "all items about it"),
                 out, numeric=(1, 2, 3))


def _medians(records, kind, why) -> float:
    scores = [r["score"] for r in records if r["kind"] == kind and r["why"] == why]
    return float(median(scores)) if scores else float("nan")


def facts(runs) -> dict:
    """Every number the chapter's text quotes, and the sentences that depend on them."""
    trained, analysis = runs
    meta, m = analysis.meta, analysis.meta["metrics"]
    collect = trained.meta["collect"]
    config = trained.meta["config"]
    run = trained.meta["run"]
    rows = _detection(meta)
    concepts = list(meta["concepts"])
    f_auc = np.array([rows[(c, "feature")]["auc"] for c in concepts])
    n_auc = np.array([rows[(c, "neuron")]["auc"] for c in concepts])
    matched_f = np.array(meta["matched"]["feature"]["per_draw_mean"])
    matched_n = np.array(meta["matched"]["neuron"]["per_draw_mean"])
    records = meta["interpretation"]
    spec = {(r["concept"], r["kind"]): r for r in meta["specificity"]}
    second, poly = meta["second"], meta["polysemantic"]
    a, b = poly["concepts"]
    written = meta["written_concepts"]
    held = list(meta["held_counts"].values())
    tokens = collect["tokens_by_source"]

    def compare(x, y, better, worse, same):
        return better if x > y + 0.005 else worse if y > x + 0.005 else same

    out = {
        "model_name": collect["model"].removesuffix(".gguf"),
        "n_layers": collect["n_layers"], "width": collect["width"], "mlp_width": collect["mlp_width"],
        "layer": config["activations"]["layer"],
        "precision": PRECISION[config["activations"].get("dtype", "float32")],
        "n_tokens": f"{collect['n_tokens']:,}", "n_items": f"{collect['n_items']:,}",
        "wordnet_tokens": f"{tokens['wordnet']:,}", "fortune_tokens": f"{tokens['fortunes']:,}",
        "written_tokens": f"{tokens['written']:,}",
        "wordnet_items": f"{collect['items_by_source']['wordnet']:,}",
        "fortune_items": f"{collect['items_by_source']['fortunes']:,}",
        "written_items": f"{collect['items_by_source']['written']:,}",
        "per_concept": config["activations"]["corpus"]["per_concept"],
        "min_held_out": config["activations"]["corpus"]["min_held_out"],
        "n_concepts": len(concepts), "held_min": min(held), "held_max": max(held),
        "train_tokens": f"{trained.meta['train_tokens']:,}", "outliers": f"{trained.meta['outliers']:,}",
        "d_sae": f"{config['sae']['d_sae']:,}", "k": config["sae"]["k"],
        "sae_steps": f"{trained.meta['steps']:,}", "batch_size": f"{config['sae']['batch_size']:,}",
        "training_samples": f"{config['sae']['training_tokens']:,}",
        "l0": m["l0"], "explained_variance": m["explained_variance"], "unexplained": 1 - m["explained_variance"],
        "ce_loss_recovered": m["ce_loss_recovered"], "delta_ce": m["delta_ce"],
        "ce_clean": m["ce_loss_clean"], "ce_sae": m["ce_loss_sae"], "ce_zero": m["ce_loss_zero"],
        "loss_tokens": f"{m['loss_tokens']:,}", "held_out_tokens": f"{m['held_out_tokens']:,}",
        "dead_pct": f"{m['dead_fraction']:.1%}", "dense_pct": f"{m['dense_fraction']:.1%}",
        "dense_cutoff": f"{m['dense_cutoff']:.0%}",
        "n_features": f"{meta['pool_sizes']['feature']:,}", "n_neurons": f"{meta['pool_sizes']['neuron']:,}",
        "mean_feature_auc": float(f_auc.mean()), "mean_neuron_auc": float(n_auc.mean()),
        "feature_wins": int((f_auc > n_auc).sum()), "neuron_wins": int((n_auc > f_auc).sum()),
        "matched_n": f"{meta['matched_n']:,}", "matched_draws": meta["matched_draws"],
        "matched_feature": float(np.median(matched_f)), "matched_neuron": float(np.median(matched_n)),
        "matched_feature_low": float(np.percentile(matched_f, 2.5)), "matched_feature_high": float(np.percentile(matched_f, 97.5)),
        "matched_neuron_low": float(np.percentile(matched_n, 2.5)), "matched_neuron_high": float(np.percentile(matched_n, 97.5)),
        "matched_feature_better": f"{np.mean(matched_f > matched_n):.0%}",
        "bootstrap": f"{meta['bootstrap']:,}",
        "n_random_features": sum(r["kind"] == "feature" and r["why"] == "random" for r in records),
        "n_random_neurons": sum(r["kind"] == "neuron" and r["why"] == "random" for r in records),
        "median_random_feature": _medians(records, "feature", "random"),
        "median_random_neuron": _medians(records, "neuron", "random"),
        "median_concept_feature": _medians(records, "feature", "concept"),
        "median_concept_neuron": _medians(records, "neuron", "concept"),
        "top_share": f"{meta['top_share']:.0%}",
        "apple_fruit_feature_auc": second["apple_fruit_feature"]["auc"],
        "apple_fruit_neuron_auc": second["apple_fruit_neuron"]["auc"],
        "apple_company_feature_auc": second["apple_company_feature"]["auc"],
        "apple_company_neuron_auc": second["apple_company_neuron"]["auc"],
        "golden_gate_feature": f"#{second['golden_gate_feature']['unit']}",
        "golden_gate_feature_auc": second["golden_gate_feature"]["auc"],
        "golden_gate_neuron_auc": second["golden_gate_neuron"]["auc"],
        "golden_gate_held_out": second["golden_gate_feature"]["held_out"],
        "n_written_test": meta["n_written_test"],
        "poly_neuron": f"{poly['index']}", "poly_block": poly["layer"] + 1,
        "poly_a": concept_name(a, written), "poly_b": concept_name(b, written),
        "poly_auc_a": poly["test_auc"][a], "poly_auc_b": poly["test_auc"][b],
        "dog_features": ", ".join(f"#{f} ({c:.2f})" for f, c in zip(meta["pets"]["dog"]["features"][:3],
                                                                      meta["pets"]["dog"]["correlation"][:3])),
        "cat_features": ", ".join(f"#{f} ({c:.2f})" for f, c in zip(meta["pets"]["cat"]["features"][:3],
                                                                      meta["pets"]["cat"]["correlation"][:3])),
        "run_where": (f"{run['device_name']} ({run['device']}, {run['torch_threads']} threads), torch {run['torch']}, "
                      f"transformers {collect['transformers']}; activations at {collect['tokens_per_s']:,.0f} tokens/s, "
                      f"SAE trained in {trained.meta['train_s']:.0f} s, analysis in {meta['analysis_s']:.0f} s"),
    }
    if "dog" in meta["concepts"]:
        out |= {"dog_feature_share": f"{spec[('dog', 'feature')]['share']:.0%}",
                "dog_neuron_share": f"{spec[('dog', 'neuron')]['share']:.0%}",
                "dog_base_rate": f"{spec[('dog', 'feature')]['base_rate']:.1%}",
                "dog_feature": f"#{spec[('dog', 'feature')]['unit']}"}
    feature_spec = float(np.mean([r["share"] for r in meta["specificity"] if r["kind"] == "feature"]))
    neuron_spec = float(np.mean([r["share"] for r in meta["specificity"] if r["kind"] == "neuron"]))
    # each verdict: (feature side, neuron side, if features are ahead, if neurons are, if level)
    verdicts = {
        "detection_verdict": (out["mean_feature_auc"], out["mean_neuron_auc"],
                              "the best single feature detects the concepts better than the best single neuron",
                              "the best single neuron detects the concepts better than the best single feature",
                              "the best single feature and the best single neuron detect the concepts about equally well"),
        "matched_verdict": (out["matched_feature"], out["matched_neuron"],
                            "features come out ahead", "neurons come out ahead", "the two pools are level"),
        "interpretation_verdict": (out["median_random_feature"], out["median_random_neuron"],
                                   "explanations predict random features better than random neurons",
                                   "explanations predict random neurons better than random features",
                                   "explanations predict random features and random neurons about equally well"),
        "spec_verdict": (feature_spec, neuron_spec,
                         "the features' strongest activations are more often about their concept than the neurons'",
                         "the neurons' strongest activations are more often about their concept than the features'",
                         "features and neurons are about equally specific"),
    }
    out |= {name: compare(*args) for name, args in verdicts.items()}
    return out
