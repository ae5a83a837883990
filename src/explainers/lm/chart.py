"""The chapter's Bokeh charts: SAE training on the player, feature densities, neurons vs features, and
the latent vectors of a dog sentence and a cat sentence. Pure Bokeh: every number comes from the runs."""
from __future__ import annotations

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, FactorRange, Label, NumeralTickFormatter, Range1d, Span
from bokeh.transform import dodge

from .. import palette
from ..embed import Chart
from ..figure import book_figure
from ..player import Player

TRAINING_ID = "real-model-sae-training"
DENSITY_ID = "real-model-density"
AUC_ID = "real-model-auc"
PETS_ID = "real-model-dog-cat"
NEURON_COLOUR = "#ff7f0e"
FEATURE_COLOUR = palette.DATA
DOG, CAT = "#8c564b", "#9467bd"


def concept_name(label: str, concepts: dict) -> str:
    return concepts.get(label, label)


def training_chart(trained, chart_id: str = TRAINING_ID) -> Chart:
    """Explained variance and dead latents over training; the latents' firing densities at that step."""
    tokens = trained["tokens"].astype(float)
    curves = ColumnDataSource({"tokens": tokens, "ev": trained["explained_variance"],
                               "held": trained["held_out_explained_variance"],
                               "dead": trained["dead_fraction"]})
    x_range = Range1d(0, float(tokens[-1]))
    ev = book_figure("Explained variance of the reconstruction", 250, x_range=x_range,
                     y_range=Range1d(min(0.0, float(np.nanmin(trained["explained_variance"]))), 1.0),
                     x_axis_label="training tokens seen", y_axis_label="explained variance")
    ev.line("tokens", "ev", source=curves, color=palette.MUTED, line_width=2, legend_label="training batch")
    ev.line("tokens", "held", source=curves, color=palette.DATA, line_width=3, legend_label="held-out tokens")
    ev.legend.location = "bottom_right"
    marker = ColumnDataSource({"tokens": [], "value": []})
    ev.scatter("tokens", "value", source=marker, marker="diamond", size=14, color=palette.CURRENT, level="overlay")

    window = trained.meta["config"]["sae"]["dead_after_tokens"]
    dead = book_figure(f"Dead latents (silent for the last {window:,} tokens)", 170, x_range=x_range,
                       y_range=Range1d(0, max(0.05, float(trained["dead_fraction"].max()) * 1.2)),
                       x_axis_label="training tokens seen", y_axis_label="share of latents")
    dead.line("tokens", "dead", source=curves, color=palette.MUTED, line_width=2)
    for fig in (ev, dead):
        fig.xaxis.formatter = NumeralTickFormatter(format="0,0")
    dead_marker = ColumnDataSource({"tokens": [], "value": []})
    dead.scatter("tokens", "value", source=dead_marker, marker="diamond", size=12, color=palette.CURRENT,
                 level="overlay")

    bins = trained["density_bins"].astype(float)
    hist = trained["density_hist"]
    every = trained.meta["config"]["sae"]["log_every"]
    density = book_figure(f"Latents by firing density, over the last {every} batches", 250,
                          x_range=Range1d(float(bins[0]), float(bins[-1])),
                          y_range=Range1d(0, float(hist.max()) * 1.1),
                          x_axis_label="log10(share of tokens a latent fires on)", y_axis_label="latents")
    bars = ColumnDataSource({"left": bins[:-1], "right": bins[1:], "top": hist[0].astype(float)})
    density.quad(left="left", right="right", bottom=0, top="top", source=bars, fill_color=palette.DATA,
                 line_color=palette.DATA, fill_alpha=0.6)

    player = Player(chart_id, trained["step"], step_label="Step", duration_s=6.0,
                    start_frame=len(trained["step"]) - 1)
    ready = player.bind("lm/render.js", curves=curves, marker=marker, dead_marker=dead_marker, bars=bars,
                        hist=hist.astype(np.float32).tolist(), d_sae=int(trained.meta["config"]["sae"]["d_sae"]))
    layout = column(row(ev, density, sizing_mode="stretch_width"), dead, player.layout, sizing_mode="stretch_width")
    return Chart(chart_id, "Training a TopK SAE on SmolLM2's residual stream", layout, [ready])


def density_chart(analysis, chart_id: str = DENSITY_ID) -> Chart:
    """How often each latent fires, over every token: the dead ones counted apart."""
    density = analysis["density"].astype(float)
    bins = analysis["density_bins"].astype(float)
    live = density[density > 0]
    counts, _ = np.histogram(np.log10(live), bins)
    fig = book_figure("Feature density: the share of tokens each SAE latent fires on", 260,
                      x_range=Range1d(float(bins[0]), float(bins[-1])), y_range=Range1d(0, float(counts.max()) * 1.15),
                      x_axis_label="log10(feature density)", y_axis_label="latents")
    fig.quad(left=bins[:-1], right=bins[1:], bottom=0, top=counts, fill_color=palette.DATA, line_color=palette.DATA,
             fill_alpha=0.6, legend_label="live latents")
    from .report import dense_cutoff

    cutoff = float(np.log10(dense_cutoff()))
    fig.add_layout(Span(location=cutoff, dimension="height", line_dash="dashed", line_color=palette.CURRENT,
                        line_width=2))
    metrics = analysis.meta["metrics"]
    dead = int(round(metrics["dead_fraction"] * len(density)))
    note = Label(x=float(bins[0]) + 0.1, y=float(counts.max()) * 1.02,
                 text=f"dead (never fired): {dead} of {len(density)}; right of the dashed line "
                      f"(> {10 ** cutoff:.0%}): dense",
                 text_font_size="12px", tags=["ink"])
    fig.add_layout(note)
    fig.legend.location = "top_right"
    return Chart(chart_id, "Feature density of the SAE's latents", column(fig, sizing_mode="stretch_width"))


def auc_chart(analysis, chart_id: str = AUC_ID) -> Chart:
    """For each labelled concept: held-out AUC of the best single neuron and of the best single feature."""
    table = analysis.meta["table"]
    concepts = analysis.meta["concepts"]
    names = [concept_name(r["concept"], concepts) for r in table][::-1]
    by_name = {concept_name(r["concept"], concepts): r for r in table}
    source = ColumnDataSource({"concept": names,
                               "neuron": [by_name[n]["neuron_auc"] for n in names],
                               "feature": [by_name[n]["feature_auc"] for n in names]})
    fig = book_figure("Held-out AUC of the best single unit, chosen on the training sentences", 60 + 30 * len(names),
                      y_range=FactorRange(*names), x_range=Range1d(0.3, 1.0),
                      x_axis_label="AUC on held-out sentences (0.5 = chance, 1 = perfect)")
    fig.hbar(y=dodge("concept", 0.18, range=fig.y_range), right="feature", left=0.3, height=0.34, source=source,
             fill_color=FEATURE_COLOUR, line_color=FEATURE_COLOUR, fill_alpha=0.85, legend_label="best SAE feature")
    fig.hbar(y=dodge("concept", -0.18, range=fig.y_range), right="neuron", left=0.3, height=0.34, source=source,
             fill_color=NEURON_COLOUR, line_color=NEURON_COLOUR, fill_alpha=0.85, legend_label="best neuron",
             hatch_pattern="/", hatch_alpha=0.35, hatch_color="white")
    fig.add_layout(Span(location=0.5, dimension="height", line_dash="dotted", line_color=palette.MUTED, line_width=2))
    fig.ygrid.grid_line_color = None
    fig.legend.location = "bottom_left"
    fig.legend.orientation = "horizontal"
    fig.add_layout(fig.legend[0], "above")
    return Chart(chart_id, "Monosemanticity: single neurons vs single SAE features", column(fig, sizing_mode="stretch_width"))


def pets_chart(analysis, chart_id: str = PETS_ID, per_sentence: int = 12) -> Chart:
    """The latent vectors of a dog sentence and a cat sentence: their strongest features side by side."""
    dog, cat = analysis["latent_dog"].astype(float), analysis["latent_cat"].astype(float)
    pets = analysis.meta["pets"]
    chosen = list(dict.fromkeys([*pets["dog"]["features"][:3], *pets["cat"]["features"][:3],
                                 *np.argsort(-dog)[:per_sentence], *np.argsort(-cat)[:per_sentence]]))
    chosen = [int(i) for i in chosen if dog[i] > 0 or cat[i] > 0]
    chosen.sort(key=lambda i: dog[i] - cat[i], reverse=True)
    factors = [f"#{i}" for i in chosen]

    def colour(i):
        if i in pets["dog"]["features"][:3]:
            return DOG
        if i in pets["cat"]["features"][:3]:
            return CAT
        return palette.MUTED

    top = max(float(dog.max()), float(cat.max())) * 1.1
    figures = []
    for title, values in ((f"Dog sentence: “{analysis.meta['pet_sentences']['dog']}”", dog),
                          (f"Cat sentence: “{analysis.meta['pet_sentences']['cat']}”", cat)):
        fig = book_figure(title, 190, x_range=figures[0].x_range if figures else FactorRange(*factors),
                          y_range=Range1d(0, top), y_axis_label="largest activation")
        fig.vbar(x=factors, top=[float(values[i]) for i in chosen], width=0.8,
                 fill_color=[colour(i) for i in chosen], line_color=None, fill_alpha=0.85)
        fig.xaxis.major_label_orientation = 0.9
        fig.xaxis.major_label_text_font_size = "10px"
        fig.xgrid.grid_line_color = None
        figures.append(fig)
    figures[-1].xaxis.axis_label = "SAE feature (brown: most dog-correlated, purple: most cat-correlated)"
    return Chart(chart_id, "A dog sentence and a cat sentence in the SAE's latent space",
                 column(*figures, sizing_mode="stretch_width"))


def book_chart(chart_id: str) -> Chart:
    """One of the chapter's charts by its id, from the cached runs (for slides and ``export``)."""
    from .analysis import book_run

    trained, analysis = book_run()
    if chart_id == TRAINING_ID:
        return training_chart(trained)
    builders = {DENSITY_ID: density_chart, AUC_ID: auc_chart, PETS_ID: pets_chart}
    if chart_id not in builders:
        raise KeyError(f"no real-model chart {chart_id!r}")
    return builders[chart_id](analysis)
