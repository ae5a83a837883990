"""The chapter's numbers and HTML pieces (token shading, feature cards, tables), read from the runs."""
from __future__ import annotations

import html

from ..embed import Html
from .corpus import FOCUS
from .sae import dense_fraction
from .train import OUTLIER_FACTOR


def dense_cutoff() -> float:
    """The density above which a latent counts as dense (``sae.dense_fraction``'s threshold)."""
    import inspect

    return inspect.signature(dense_fraction).parameters["threshold"].default

# Token shading: red for positive activations, blue for negative; alpha carries the size, so the text
# stays readable on the light page, the dark page and the theme's light output panel alike.
STYLE = """<style>
.lm-tokens { line-height: 1.9; font-size: 0.95em; margin: 0.2rem 0; }
.lm-tokens span.t { border-radius: 3px; padding: 1px 0; white-space: pre-wrap; }
.lm-label { font-size: 0.8em; opacity: 0.75; margin-right: 0.5em; font-variant: small-caps; }
.lm-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 0.8rem; }
.lm-card { border: 1px solid rgba(128,128,128,0.45); border-radius: 6px; padding: 0.6rem 0.8rem; }
.lm-card h4 { font-size: 1rem; margin: 0 0 0.3rem 0; }
.lm-card .lm-meta { font-size: 0.82em; opacity: 0.85; margin-bottom: 0.3rem; }
.lm-card svg { display: block; width: 100%; height: 56px; color: inherit; }
.lm-card .lm-tokens { font-size: 0.86em; border-top: 1px dashed rgba(128,128,128,0.35); }
.lm-card h4 { color: inherit; }
.lm-scroll { overflow-x: auto; }
table.lm-table td, table.lm-table th { padding: 0.2rem 0.5rem; }
/* in dark mode the theme boxes HTML outputs in a light panel: ours follow the page instead */
html[data-theme=dark] .bd-content div.cell_output .text_html:has(div.lm-html) {
  background-color: transparent; color: inherit; padding: 0;
}
table.lm-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>"""


def _html(body: str) -> Html:
    return Html(STYLE + f'<div class="lm-html">{body}</div>')


def _shade(value: float, scale: float) -> str:
    if scale <= 0 or value == 0:
        return "transparent"
    alpha = min(1.0, abs(value) / scale) * 0.75
    return f"rgba(214,39,40,{alpha:.2f})" if value > 0 else f"rgba(31,119,180,{alpha:.2f})"


def _visible(token: str) -> str:
    """Line breaks inside a snippet become a visible mark, so a card keeps one line per snippet."""
    return token.replace("\n", "↵").replace("\t", "→")


def shaded_tokens(tokens, values, scale: float, label: str = "") -> str:
    spans = "".join(
        f'<span class="t" style="background:{_shade(v, scale)}" title="{v:.2f}">{html.escape(_visible(t))}</span>'
        for t, v in zip(tokens, values))
    tag = f'<span class="lm-label">{html.escape(label)}</span>' if label else ""
    return f'<div class="lm-tokens">{tag}{spans}</div>'


def concept_name(label, concepts) -> str:
    return concepts.get(label, label) if label else "no concept"


def polysemantic_sentences(analysis) -> Html:
    poly = analysis.meta["polysemantic"]
    concepts = analysis.meta["concepts"]
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
    concepts = analysis.meta["concepts"]
    out = []
    for card in analysis.meta["cards"]:
        scale = card["max"]
        snippets = "".join(shaded_tokens(s["tokens"], s["values"], scale) for s in card["snippets"])
        best = f"best at: {html.escape(concept_name(card['concept'], concepts))}" if card["concept"] else ""
        out.append(
            f'<div class="lm-card"><h4>Feature #{card["feature"]}</h4>'
            f'<div class="lm-meta">density {card["density"]:.2%} ({card["fires_on"]:,} tokens) · max {scale:.2f}'
            f'{" · " + best if best else ""}</div>'
            f'{_histogram_svg(card["histogram"], card["edges"])}'
            f'<div class="lm-meta">nonzero activations, {card["edges"][0]:.2f} to {card["edges"][-1]:.2f}</div>'
            f'{snippets}</div>')
    return _html('<div class="lm-cards">' + "".join(out) + "</div>")


def metrics_table(trained, analysis) -> Html:
    m = analysis.meta["metrics"]
    rows = [
        ("L0 (latents active per token)", f"{m['l0']:.1f}"),
        ("explained variance (held-out tokens)", f"{m['explained_variance']:.3f}"),
        ("next-token loss, clean", f"{m['ce_loss_clean']:.3f}"),
        ("next-token loss, SAE spliced in", f"{m['ce_loss_sae']:.3f}"),
        ("next-token loss, zero-ablated", f"{m['ce_loss_zero']:.3f}"),
        ("CE loss recovered", f"{m['ce_loss_recovered']:.3f}"),
        ("dead latents (never fired)", f"{m['dead_fraction']:.1%}"),
        (f"dense latents (fire on > {dense_cutoff():.0%} of tokens)", f"{m['dense_fraction']:.1%}"),
    ]
    body = "".join(f"<tr><td>{html.escape(a)}</td><td class='num'>{b}</td></tr>" for a, b in rows)
    return _html(f"<table class='table lm-table'><thead><tr><th>measure</th><th>value</th></tr></thead>"
                 f"<tbody>{body}</tbody></table>")


def auc_table(analysis) -> Html:
    concepts = analysis.meta["concepts"]
    mlp_width = analysis.meta["n_neurons"] // analysis.meta["config"]["activations"]["layer"]
    rows = []
    for r in analysis.meta["table"]:
        block, index = divmod(r["neuron"], mlp_width)
        rows.append(
            f"<tr><td>{html.escape(concept_name(r['concept'], concepts))}</td><td class='num'>{r['test_positives']}</td>"
            f"<td class='num'>{r['neuron_auc']:.3f}</td><td class='num'>{r['neuron_precision']:.2f} / {r['neuron_recall']:.2f}</td>"
            f"<td class='num'>{r['feature_auc']:.3f}</td><td class='num'>{r['feature_precision']:.2f} / {r['feature_recall']:.2f}</td>"
            f"<td>neuron {block + 1}.{index}<br>feature #{r['feature']}</td></tr>")
    return _html("<div class='lm-scroll'><table class='table lm-table'><thead><tr><th>concept</th><th>held-out sentences</th>"
                 "<th>neuron AUC</th><th>neuron P / R</th><th>feature AUC</th><th>feature P / R</th>"
                 "<th>which (block.index, #feature)</th></tr></thead>"
                 f"<tbody>{''.join(rows)}</tbody></table></div>")


def facts(trained, analysis) -> dict:
    """Every number the chapter's text quotes."""
    meta, m = analysis.meta, analysis.meta["metrics"]
    collect = trained.meta["collect"]
    config = trained.meta["config"]
    run = trained.meta["run"]
    concepts = meta["concepts"]
    table = meta["table"]
    poly = meta["polysemantic"]
    a, b = poly["concepts"]
    wins = sum(r["feature_auc"] > r["neuron_auc"] for r in table)
    losses = sum(r["feature_auc"] < r["neuron_auc"] for r in table)
    mean_n = sum(r["neuron_auc"] for r in table) / len(table)
    mean_f = sum(r["feature_auc"] for r in table) / len(table)
    senses = meta["senses"]
    if mean_f > mean_n + 0.01:
        verdict = "single SAE features detect the labelled concepts better than single neurons."
    elif mean_n > mean_f + 0.01:
        verdict = ("single neurons detect the labelled concepts at least as well as single SAE features: "
                   "on this corpus the features are not the cleaner detectors.")
    else:
        verdict = "single SAE features and single neurons detect the labelled concepts about equally well."
    fruit = next(r["feature"] for r in table if r["concept"] == "apple_fruit")
    company = next(r["feature"] for r in table if r["concept"] == "apple_company")
    pair = meta["sae_pair"]
    return {
        "verdict": verdict,
        "pair_verdict": ("the SAE's best features for the two are different ones" if pair[a]["feature"] != pair[b]["feature"]
                         else "the SAE's best feature is the same one for both"),
        "apple_verdict": ("two different features" if fruit != company else "one and the same feature"),
        "model_name": collect["model"].removesuffix(".gguf"),
        "n_layers": collect["n_layers"], "width": collect["width"], "mlp_width": collect["mlp_width"],
        "layer": config["activations"]["layer"],
        "n_tokens": f"{trained.meta['n_tokens']:,}", "train_tokens": f"{trained.meta['train_tokens']:,}",
        "written_train_tokens": f"{trained.meta['written_train_tokens']:,}",
        "written_repeats": config["written_repeats"],
        "batch_size": f"{config['sae']['batch_size']:,}", "context": config["activations"]["context"],
        "held_out_pct": f"{config['activations']['held_out']:.0%}", "outlier_factor": f"{OUTLIER_FACTOR:g}",
        "dense_cutoff": f"{dense_cutoff():.0%}",
        "n_everyday": sum(1 for label in concepts if label not in FOCUS),
        "outliers": trained.meta["outliers"],
        "n_sentences": meta["n_sentences"], "n_test_sentences": meta["n_test_sentences"],
        "n_concepts": len(concepts), "n_neurons": f"{meta['n_neurons']:,}",
        "d_sae": f"{config['sae']['d_sae']:,}", "k": config["sae"]["k"],
        "sae_steps": trained.meta["steps"], "training_samples": f"{config['sae']['training_tokens']:,}",
        "l0": m["l0"], "explained_variance": m["explained_variance"], "ce_loss_recovered": m["ce_loss_recovered"],
        "ce_clean": m["ce_loss_clean"], "ce_sae": m["ce_loss_sae"], "ce_zero": m["ce_loss_zero"],
        "loss_tokens": f"{m['loss_tokens']:,}", "held_out_tokens": f"{m['held_out_tokens']:,}",
        "density_tokens": f"{m['density_tokens']:,}",
        "dead_pct": f"{m['dead_fraction']:.1%}", "dense_pct": f"{m['dense_fraction']:.1%}",
        "poly_neuron": f"{poly['index']}", "poly_block": poly["layer"] + 1,
        "poly_a": concept_name(a, concepts), "poly_b": concept_name(b, concepts),
        "poly_auc_a": poly["test_auc"][a], "poly_auc_b": poly["test_auc"][b],
        "pair_feature_a": f"#{meta['sae_pair'][a]['feature']}", "pair_feature_b": f"#{meta['sae_pair'][b]['feature']}",
        "pair_auc_a_own": meta["sae_pair"][a]["auc_own"], "pair_auc_a_other": meta["sae_pair"][a]["auc_other"],
        "pair_auc_b_own": meta["sae_pair"][b]["auc_own"], "pair_auc_b_other": meta["sae_pair"][b]["auc_other"],
        "fruit_feature": f"#{next(r['feature'] for r in table if r['concept'] == 'apple_fruit')}",
        "company_feature": f"#{next(r['feature'] for r in table if r['concept'] == 'apple_company')}",
        "sense_fruit_feature_auc": senses["apple_fruit_feature"]["auc"],
        "sense_fruit_neuron_auc": senses["apple_fruit_neuron"]["auc"],
        "sense_company_feature_auc": senses["apple_company_feature"]["auc"],
        "sense_company_neuron_auc": senses["apple_company_neuron"]["auc"],
        "dog_features": ", ".join(f"#{f} ({c:.2f})" for f, c in zip(meta["pets"]["dog"]["features"][:3],
                                                                      meta["pets"]["dog"]["correlation"][:3])),
        "cat_features": ", ".join(f"#{f} ({c:.2f})" for f, c in zip(meta["pets"]["cat"]["features"][:3],
                                                                      meta["pets"]["cat"]["correlation"][:3])),
        "feature_wins": wins, "neuron_wins": losses, "n_table": len(table),
        "mean_neuron_auc": mean_n, "mean_feature_auc": mean_f,
        "collect_tps": f"{collect['tokens_per_s']:,.0f}", "train_tps": f"{trained.meta['tokens_per_s']:,.0f}",
        "run_where": (f"{run['device_name']} ({run['device']}, {run['torch_threads']} threads), torch {run['torch']}, "
                      f"transformers {collect['transformers']}; activations collected at "
                      f"{collect['tokens_per_s']:,.0f} tokens/s, SAE trained at {trained.meta['tokens_per_s']:,.0f} "
                      f"tokens/s ({trained.meta['train_s']:.0f} s), analysis {meta['analysis_s']:.0f} s"),
    }
