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
from .summaries import POOL_LABELS, median_interval, pool_scores

PAGE = "real-model"
TRAINING_ID = "real-model-sae-training"
DENSITY_ID = "real-model-density"
AUC_ID = "real-model-auc"
INTERPRETABILITY_ID = "real-model-interpretability"
PETS_ID = "real-model-dog-cat"
SCALE_ID = "real-model-scale"
CHARTS = {
    TRAINING_ID: "Training a TopK SAE on SmolLM2's residual stream",
    DENSITY_ID: "Feature density of the SAE's latents",
    AUC_ID: "Detecting WordNet concepts: the best single feature against the best single neuron",
    INTERPRETABILITY_ID: "How well an automatic explanation predicts random units of four kinds, against its floor",
    PETS_ID: "A dog sentence and a cat sentence in the SAE's latent space",
    SCALE_ID: "What more text buys the SAE: held-out explained variance against training vectors read",
}
NEURON_COLOUR = "#ff7f0e"
CONTROL_COLOURS = {"basis": "#2ca02c", "random": "#7f7f7f"}
FEATURE_COLOUR = palette.DATA
DOG, CAT = "#8c564b", "#9467bd"


def concept_name(label: str, concepts: dict) -> str:
    return concepts.get(label, label)


def training_chart(runs, chart_id: str = TRAINING_ID) -> Chart:
    """Explained variance and dead latents over training; the latents' firing densities at that step."""
    trained = runs.trained
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

    window = runs.dead_after_tokens
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
    every = runs.log_every
    density = book_figure(f"Latents by firing density, over the last {every} batches", 250,
                          x_range=Range1d(float(bins[0]), float(bins[-1])),
                          y_range=Range1d(0, float(hist.max()) * 1.1),
                          x_axis_label="log10(share of tokens a latent fires on)", y_axis_label="latents")
    bars = ColumnDataSource({"left": bins[:-1], "right": bins[1:], "top": hist[0].astype(float)})
    density.quad(left="left", right="right", bottom=0, top="top", source=bars, fill_color=palette.DATA,
                 line_color=palette.DATA, fill_alpha=0.6, level="overlay")  # a frame repaints the bars alone

    player = Player(chart_id, trained["step"], step_label="Step", duration_s=6.0,
                    start_frame=len(trained["step"]) - 1)
    ready = player.bind("real_model/render.js", curves=curves, marker=marker, dead_marker=dead_marker, bars=bars,
                        hist=hist.astype(np.float32).tolist(), d_sae=int(runs.d_sae))
    layout = column(row(ev, density, sizing_mode="stretch_width"), dead, player.layout, sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[TRAINING_ID], layout, [ready])


def density_chart(runs, chart_id: str = DENSITY_ID) -> Chart:
    """How often each latent fires, over every token: the dead ones counted apart."""
    density = runs.analysis["density"].astype(float)
    bins = runs.analysis["density_bins"].astype(float)
    live = density[density > 0]
    counts, _ = np.histogram(np.log10(live), bins)
    fig = book_figure("Feature density: the share of tokens each SAE latent fires on", 260,
                      x_range=Range1d(float(bins[0]), float(bins[-1])), y_range=Range1d(0, float(counts.max()) * 1.15),
                      x_axis_label="log10(feature density)", y_axis_label="latents")
    fig.quad(left=bins[:-1], right=bins[1:], bottom=0, top=counts, fill_color=palette.DATA, line_color=palette.DATA,
             fill_alpha=0.6, legend_label="live latents")
    cutoff = float(np.log10(runs.metrics["dense_cutoff"]))
    fig.add_layout(Span(location=cutoff, dimension="height", line_dash="dashed", line_color=palette.CURRENT,
                        line_width=2))
    metrics = runs.metrics
    dead = int(round(metrics["dead_fraction"] * len(density)))
    note = Label(x=float(bins[0]) + 0.1, y=float(counts.max()) * 1.02,
                 text=f"dead (never fired): {dead} of {len(density)}; right of the dashed line "
                      f"(> {10 ** cutoff:.0%}): dense",
                 text_font_size="12px", tags=["ink"])
    fig.add_layout(note)
    fig.legend.location = "top_right"
    return Chart(chart_id, CHARTS[DENSITY_ID], column(fig, sizing_mode="stretch_width"))


def auc_chart(runs, chart_id: str = AUC_ID) -> Chart:
    """For each WordNet concept: held-out AUC of the best single neuron and of the best single feature
    (each chosen on training items), with bootstrap 95 % intervals."""
    concepts = runs.concepts
    rows = {(r["concept"], r["kind"]): r for r in runs.detection}
    labels = list(concepts)[::-1]
    names = [concepts[c] for c in labels]
    low = min(0.5, min(r["low"] for r in rows.values()) - 0.02)
    figure = book_figure("Held-out AUC of the best single unit (bars: 95 % bootstrap interval)", 90 + 34 * len(names),
                         y_range=FactorRange(*names), x_range=Range1d(low, 1.0),
                         x_axis_label="AUC on held-out WordNet items (0.5 = chance, 1 = perfect)")
    kinds = [("feature", FEATURE_COLOUR, 0.27, "best SAE feature", "circle"),
             ("neuron", NEURON_COLOUR, 0.09, "best neuron", "square"),
             ("basis", CONTROL_COLOURS["basis"], -0.09, "best residual coordinate", "triangle"),
             ("random", CONTROL_COLOURS["random"], -0.27, "best random direction", "diamond")]
    for kind, colour, offset, legend, marker in [k for k in kinds if (labels[0], k[0]) in rows]:
        source = ColumnDataSource({"concept": names, "auc": [rows[(c, kind)]["auc"] for c in labels],
                                   "low": [rows[(c, kind)]["low"] for c in labels],
                                   "high": [rows[(c, kind)]["high"] for c in labels]})
        y = dodge("concept", offset, range=figure.y_range)
        figure.hbar(y=y, left="low", right="high", height=0.08, source=source, fill_color=colour, line_color=None)
        figure.scatter(y=y, x="auc", source=source, size=7, marker=marker, fill_color=colour, line_color=colour,
                       legend_label=legend)
    figure.add_layout(Span(location=0.5, dimension="height", line_dash="dotted", line_color=palette.MUTED, line_width=2))
    figure.ygrid.grid_line_color = None
    figure.legend.orientation = "horizontal"
    figure.add_layout(figure.legend[0], "above")
    return Chart(chart_id, CHARTS[AUC_ID], column(figure, sizing_mode="stretch_width"))


def interpretability_chart(runs, chart_id: str = INTERPRETABILITY_ID) -> Chart:
    """Every random unit's explanation score, one row per pool, with the median and its 95 % interval; the
    bottom row is the floor: each random unit scored with another unit's explanation."""
    records = runs.interpretation
    pools = pool_scores(records)
    order = [k for k in ("feature", "neuron", "basis", "random", "shuffled") if k in pools]
    names = [f"{POOL_LABELS[k]} ({len(pools[k])})" for k in order][::-1]
    colours = {"feature": FEATURE_COLOUR, "neuron": NEURON_COLOUR, **CONTROL_COLOURS, "shuffled": palette.MUTED}
    figure = book_figure("Explanation score on held-out text, per random unit (bar: median, 95 % interval)",
                         80 + 44 * len(names), y_range=FactorRange(*names), x_range=Range1d(-0.25, 1.0),
                         x_axis_label="score: correlation of prediction and activation (0: no better than nothing)")
    rng = np.random.default_rng(0)
    for kind, name in zip(order, names[::-1]):
        values = pools[kind]
        jitter = rng.uniform(-0.25, 0.25, len(values))
        source = ColumnDataSource({"x": np.clip(values, -0.25, 1.0), "y": [(name, float(j)) for j in jitter]})
        figure.scatter(x="x", y="y", source=source, size=5, fill_color=colours[kind], line_color=None, fill_alpha=0.45)
        median_, low, high = median_interval(values)
        figure.hbar(y=[name], left=[low], right=[high], height=0.12, fill_color=palette.CURRENT, line_color=None)
        figure.scatter(x=[median_], y=[name], marker="dash", size=22, angle=np.pi / 2, line_color=palette.CURRENT,
                       line_width=3)
    figure.add_layout(Span(location=0, dimension="height", line_dash="dotted", line_color=palette.MUTED, line_width=2))
    figure.ygrid.grid_line_color = None
    return Chart(chart_id, CHARTS[INTERPRETABILITY_ID], column(figure, sizing_mode="stretch_width"))


def pets_chart(runs, chart_id: str = PETS_ID, per_sentence: int = 12) -> Chart:
    """The latent vectors of a dog sentence and a cat sentence: their strongest features side by side."""
    dog, cat = runs.analysis["latent_dog"].astype(float), runs.analysis["latent_cat"].astype(float)
    pets = runs.pets
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
    for title, values in ((f"Dog sentence: “{runs.pet_sentences['dog']}”", dog),
                          (f"Cat sentence: “{runs.pet_sentences['cat']}”", cat)):
        fig = book_figure(title, 190, x_range=figures[0].x_range if figures else FactorRange(*factors),
                          y_range=Range1d(0, top), y_axis_label="largest activation")
        fig.vbar(x=factors, top=[float(values[i]) for i in chosen], width=0.8,
                 fill_color=[colour(i) for i in chosen], line_color=None, fill_alpha=0.85)
        fig.xaxis.major_label_orientation = 0.9
        fig.xaxis.major_label_text_font_size = "10px"
        fig.xgrid.grid_line_color = None
        figures.append(fig)
    figures[-1].xaxis.axis_label = "SAE feature (brown: most dog-correlated, purple: most cat-correlated)"
    return Chart(chart_id, CHARTS[PETS_ID],
                 column(*figures, sizing_mode="stretch_width"))


def scale_chart(records: dict, chart_id: str = SCALE_ID) -> Chart:
    """The recorded scale points (the book's SAE trained on shares of its vectors, and the book's own run),
    and the recorded GPU run of a wider SAE beside them."""
    record = records.get("scale")
    figure = book_figure("Held-out explained variance against training vectors read", 280, x_axis_type="log",
                         x_axis_label="training vectors read (log scale)", y_axis_label="held-out explained variance",
                         y_range=Range1d(0, 1))
    if record is None:
        figure.add_layout(Label(x=10, y=100, x_units="screen", y_units="screen", text="no scale record yet", tags=["ink"]))
        return Chart(chart_id, CHARTS[SCALE_ID], column(figure, sizing_mode="stretch_width"))
    points = record["points"]
    source = ColumnDataSource({"x": [p["vectors"] for p in points], "y": [p["held_out_explained_variance"] for p in points]})
    figure.line("x", "y", source=source, color=palette.DATA, line_width=2)
    figure.scatter("x", "y", source=source, size=9, color=palette.DATA,
                   legend_label=f"this SAE's recipe, block {record['layer']}, {record['d_sae']:,} features (CPU)")
    reference = record.get("reference")
    low = min(p["vectors"] for p in points) / 1.5
    high = max(p["vectors"] for p in points) * 1.5
    if reference:
        figure.scatter([reference["vectors"]], [reference["held_out_explained_variance"]], size=11, marker="diamond",
                       color=NEURON_COLOUR, legend_label=f"recorded GPU run: block {reference['layer']}, "
                                                         f"{reference['d_sae']:,} features")
        high = max(high, reference["vectors"] * 1.5)
    figure.x_range = Range1d(low, high)
    figure.xaxis.formatter = NumeralTickFormatter(format="0a")
    figure.add_layout(figure.legend[0], "above")  # inside, it would cover the points on a phone
    return Chart(chart_id, CHARTS[SCALE_ID], column(figure, sizing_mode="stretch_width"))


def chart(chart_id: str, runs) -> Chart:
    """One of the chapter's charts by its id, from ``runs.runs()``."""
    if chart_id == TRAINING_ID:
        return training_chart(runs)
    if chart_id == SCALE_ID:
        return scale_chart(runs.records)
    builders = {DENSITY_ID: density_chart, AUC_ID: auc_chart, INTERPRETABILITY_ID: interpretability_chart,
                PETS_ID: pets_chart}
    if chart_id not in builders:
        raise KeyError(f"no real-model chart {chart_id!r}")
    return builders[chart_id](runs)
