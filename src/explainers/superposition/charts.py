"""The superposition charts: the star (five features in two dimensions), the phase diagram (two features in
one dimension), and the SAE that finds the star's five directions again. Bokeh only: no training here."""
from __future__ import annotations

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import (ColumnDataSource, DataRange1d, FactorRange, HoverTool, LabelSet, Legend, LegendItem,
                          Range1d, Span)
from bokeh.palettes import Viridis256

from .. import palette
from ..embed import Chart
from ..figure import SWATCH_TAG, book_figure, packed
from ..player import Choice, Player
from .geometry import DEDICATED, NOT_REPRESENTED, PHASE_NAMES, SUPERPOSITION

PAGE = "superposition"
STAR_ID = "superposition-star"
PHASES_ID = "superposition-phases"
SAE_ID = "pentagon-sae"
CHARTS = {
    STAR_ID: "Five features in two dimensions: the star forms as the toy model trains",
    PHASES_ID: "The phase diagram: 2 features in 1 dimension, over sparsity and importance",
    SAE_ID: "An SAE on the pentagon's 2 dimensions: do its latents find the 5 directions?",
}

# Importance, most important first: dark blue to light green. The middle of Viridis reads on a white and
# on a dark page alike; its dark purple and pale yellow ends would vanish on one of them.
IMPORTANCE_RAMP = tuple(Viridis256[60:201])
DROPPED = palette.MUTED
LATENT = palette.CURRENT
PHASE_STYLE = {  # phase code: (colour, marker); every phase has its own shape as well as its colour
    NOT_REPRESENTED: (palette.MUTED, "dash"),
    DEDICATED: (palette.DATA, "square"),
    SUPERPOSITION: ("#ff7f0e", "diamond"),
}
OTHER_STYLE = ("#ffffff", "question")


def finite(a) -> np.ndarray:
    """float32 with NaN/inf replaced by 0: nothing that JSON or a Bokeh buffer would mangle reaches a source."""
    return np.nan_to_num(np.asarray(a, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def importance_colours(importance) -> list[str]:
    """The colour of each feature's arrow and bar, by its importance: the ramp's dark end for the most
    important feature, its light end for the least."""
    importance = np.asarray(importance, dtype=float)
    low, high = importance.min(), importance.max()
    where = (high - importance) / (high - low) if high > low else np.zeros_like(importance)
    return [IMPORTANCE_RAMP[int(round(w * (len(IMPORTANCE_RAMP) - 1)))] for w in where]


def feature_names(n: int) -> list[str]:
    return [f"x{i + 1}" for i in range(n)]


def sparsity_choice(toy) -> Choice:
    sparsity = toy.sparsity
    labels = tuple(f"S = {s:g} · {k} kept" for s, k in zip(sparsity, toy.n_represented_shown))
    default = int(np.argmax(sparsity))  # the sparsest: press play and watch the pentagon form
    return Choice("s", "Sparsity S (each feature is zero with probability S)",
                  tuple(f"{s:g}" for s in sparsity), labels, default)


def square_plane(title: str, reach: float, height: int = 360):
    """A stretch-width figure of the plane [-reach, reach]², kept square: the ranges fit two invisible
    corner points and match the aspect, so a circle stays round at any column width."""
    corners = ColumnDataSource({"x": [-reach, reach], "y": [-reach, reach]})
    fig = book_figure(title, height, match_aspect=True, x_axis_label="hidden dimension 1",
                      y_axis_label="hidden dimension 2")
    drawn = fig.scatter("x", "y", source=corners, alpha=0, size=1)
    fig.x_range = DataRange1d(renderers=[drawn], range_padding=0)
    fig.y_range = DataRange1d(renderers=[drawn], range_padding=0)
    fig.min_border_left = 40
    return fig


def _unit_circle(fig, radius=1.0):
    angle = np.linspace(0, 2 * np.pi, 121)
    fig.line(radius * np.cos(angle), radius * np.sin(angle), color=palette.MUTED, line_dash="dotted",
             line_width=1)


def star_chart(toy, chart_id: str = STAR_ID, max_frames: int = 100) -> Chart:
    """Each feature's column of W as an arrow in the 2-D hidden space, scrubbable over training, one
    run per sparsity; beside it each feature's norm and how much it shares its direction. ``toy``: a
    ``runs.ToyRun``."""
    shown = toy.timeline.thinned(max_frames)  # the run records 100 steps; a reader scrubs through them
    steps = shown["step"]
    W = finite(shown["W_columns"])  # (frame, sparsity, feature, 2)
    F, K, N, _ = W.shape
    norms, shared = finite(shown["feature_norm"]), finite(shown["superposition"])
    importance = shown["importance"]
    colours = importance_colours(importance)
    names = feature_names(N)
    threshold = toy.represented_norm

    columns = {"x": W[..., 0].ravel(), "y": W[..., 1].ravel(), "norm": norms.ravel(), "shared": shared.ravel()}
    columns = {name: packed(values) for name, values in columns.items()}  # int16 and a scale: a lighter page
    frames = ColumnDataSource({name: ints for name, (ints, _) in columns.items()})  # index ((frame·K) + k)·N + i
    scales = {name: scale for name, (_, scale) in columns.items()}
    losses = ColumnDataSource({"loss": finite(shown["loss"]).ravel()})  # index frame·K + k

    reach = float(max(1.0, np.abs(W).max())) * 1.25
    star = square_plane("Feature directions Wᵢ in the 2 hidden dimensions", reach)
    _unit_circle(star)
    empty = {"x0": [0.0] * N, "y0": [0.0] * N, "x1": [0.0] * N, "y1": [0.0] * N, "angle": [0.0] * N,
             "head": [13] * N,
             "colour": colours, "name": names, "lx": [0.0] * N, "ly": [0.0] * N, "text": names}
    arrows = ColumnDataSource(empty)
    star.segment("x0", "y0", "x1", "y1", source=arrows, color="colour", line_width=4, level="overlay")
    star.scatter("x1", "y1", source=arrows, marker="triangle", angle="angle", size="head", color="colour",
                 level="overlay")
    star.add_layout(LabelSet(x="lx", y="ly", text="text", source=arrows, text_align="center",
                             text_baseline="middle", text_font_size="12px", level="overlay", tags=["ink"]))

    importance_text = [f"I={v:.2g}" for v in importance]
    bars = ColumnDataSource({"feature": names, "norm": [0.0] * N, "shared": [0.0] * N, "colour": colours,
                             "shared_colour": colours})
    # the importances never change: their own source, so that a frame's new bars do not redraw them
    importance_labels = ColumnDataSource({"feature": names, "importance": importance_text})
    dropped = ColumnDataSource({"feature": [], "y": []})  # the × under each dropped feature
    norm_max = float(max(1.0, norms.max())) * 1.3
    norm_fig = book_figure(f"Norm ‖Wᵢ‖ (dashed: {threshold:g}), importance Iᵢ", 170,
                           x_range=FactorRange(*names), y_range=Range1d(0, norm_max), y_axis_label="norm")
    norm_fig.vbar(x="feature", top="norm", width=0.7, source=bars, color="colour", level="overlay")
    norm_fig.add_layout(LabelSet(x="feature", y=norm_max * 0.86, text="importance", source=importance_labels,
                                 text_align="center", text_font_size="10px", tags=["ink"]))
    norm_fig.add_layout(Span(location=threshold, dimension="width", line_dash="dashed",
                             line_color=palette.MUTED, line_width=1.5, level="overlay"))
    kept = norms >= threshold
    shared_max = float(max(0.1, shared[kept].max() if kept.any() else 0.1)) * 1.15
    shared_fig = book_figure(f"Shared direction Σⱼ(Ŵᵢ·Wⱼ)² (×: norm ≤ {threshold:g})", 170,
                             x_range=norm_fig.x_range, y_range=Range1d(0, shared_max),
                             x_axis_label="feature (x1 most important)", y_axis_label="shared")
    shared_fig.vbar(x="feature", top="shared", width=0.7, source=bars, color="shared_colour", level="overlay")
    shared_fig.scatter("feature", "y", source=dropped, marker="x", size=12, color=DROPPED,
                       line_width=2, level="overlay")

    player = Player(chart_id, steps, choices=(sparsity_choice(toy),), step_label="Step")
    ready = player.bind(
        "superposition/star_render.js", frames=frames, scales=scales, losses=losses, arrows=arrows, bars=bars,
        dropped=dropped,
        n_features=N,
        n_runs=K, names=names, colours=colours, dropped_colour=DROPPED, threshold=threshold,
        label_at=float(0.16 * reach), sparsity=[float(s) for s in toy.sparsity],
    )
    layout = column(row(star, column(norm_fig, shared_fig, sizing_mode="stretch_width"),
                        sizing_mode="stretch_width"),
                    player.layout, sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[chart_id], layout, [ready])


def _log_edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges for log-spaced centres: geometric midpoints, and as far again beyond each end."""
    logs = np.log(centres)
    mids = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - mids[0]], mids, [2 * logs[-1] - mids[-1]]]))


def phase_chart(phase, chart_id: str = PHASES_ID) -> Chart:
    """What a model with 1 hidden dimension does with 2 features at each density and relative importance
    (final step). ``phase``: a ``runs.PhaseRun``."""
    phase = phase.timeline
    density, relative = phase["density"].astype(float), phase["relative_importance"].astype(float)
    final = phase["phase"][-1]  # (density, importance)
    w = finite(phase["W"][-1])
    d_edges, r_edges = _log_edges(density), _log_edges(relative)
    D, R = final.shape
    di, ri = np.meshgrid(np.arange(D), np.arange(R), indexing="ij")
    di, ri = di.ravel(), ri.ravel()
    codes = final.ravel()
    styles = [PHASE_STYLE.get(int(c), OTHER_STYLE) for c in codes]
    cells = ColumnDataSource({
        "left": d_edges[di], "right": d_edges[di + 1], "bottom": r_edges[ri], "top": r_edges[ri + 1],
        "x": density[di], "y": relative[ri], "sparsity": 1 - density[di],
        "w1": w[..., 0].ravel(), "w2": w[..., 1].ravel(),
        "colour": [s[0] for s in styles], "marker": [s[1] for s in styles],
        "phase": [PHASE_NAMES[int(c)] for c in codes],
    })
    fig = book_figure("2 features, 1 dimension: what training chose in each cell", 380, x_axis_type="log",
                      y_axis_type="log", x_range=Range1d(float(d_edges[0]), float(d_edges[-1])),
                      y_range=Range1d(float(r_edges[0]), float(r_edges[-1])),
                      x_axis_label="feature density 1 − S (sparser to the left)",
                      y_axis_label="importance of the extra feature (feature 1 = 1)")
    quads = fig.quad(left="left", right="right", bottom="bottom", top="top", source=cells, color="colour",
                     fill_alpha=0.75, line_color=None)
    marks = fig.scatter("x", "y", source=cells, marker="marker", size=9, fill_color="#ffffff",
                        line_color="#222222", line_width=1.5)
    fig.add_layout(Span(location=1.0, dimension="width", line_dash="dashed", line_color="#222222",
                        line_width=1))
    items = []
    for code, (colour, marker) in PHASE_STYLE.items():
        shown = np.flatnonzero(codes == code)
        if len(shown):
            items.append(LegendItem(label=PHASE_NAMES[code], renderers=[quads, marks], index=int(shown[0])))
    if np.any(~np.isin(codes, list(PHASE_STYLE))):
        items.append(LegendItem(label=PHASE_NAMES[-1], renderers=[quads, marks],
                                index=int(np.flatnonzero(~np.isin(codes, list(PHASE_STYLE)))[0])))
    fig.add_layout(Legend(items=items, location="center", orientation="vertical", label_text_font_size="11px",
                          padding=4, spacing=0), "below")
    fig.add_tools(HoverTool(renderers=[quads], tooltips=[
        ("phase", "@phase"), ("density 1 − S", "@x{0.000}"), ("importance ratio", "@y{0.00}"),
        ("W = (w₁, w₂)", "(@w1{0.00}, @w2{0.00})")]))
    fig.height = 520
    return Chart(chart_id, CHARTS[chart_id], column(fig, sizing_mode="stretch_width"))


def run_choice(sae) -> Choice:
    t = sae.timeline
    values = tuple(f"d{d}" + ("r" if rs else "") for d, rs in zip(t["d_sae"], t["resample"]))
    return Choice("run", "Dictionary: latents and dead-latent resampling", values, sae.run_labels, 0)


def seed_choice(sae) -> Choice:
    seeds = [int(s) for s in sae.seeds]
    shown = seeds.index(sae.shown_seed)
    labels = tuple(f"{s}" + (" (shown)" if i == shown else "") for i, s in enumerate(seeds))
    return Choice("seed", "Seed (initialisation) of the SAE", tuple(str(s) for s in seeds), labels, shown)


def sae_chart(sae, toy_importance, chart_id: str = SAE_ID, max_frames: int = 20) -> Chart:
    """The SAE's latent directions against the 5 true ones, the cosine of each match, and dead latents.
    ``sae``: a ``runs.PentagonSAERun``."""
    run = sae
    # every run x seed x latent is shipped per frame: 20 of the recorded frames keep the page light
    sae = run.timeline.thinned(max_frames)
    steps = sae["step"]
    decoder = finite(sae["decoder"])  # (frame, run, seed, latent, 2)
    F, R, S, L, _ = decoder.shape
    features = finite(sae["feature_directions"])
    N = len(features)
    exists = np.asarray(sae["latent_exists"], dtype=bool)  # (run, latent)
    colours = importance_colours(toy_importance)
    names = feature_names(N)
    latent_names = [str(j + 1) for j in range(L)]

    # Every run × seed × latent is on the page, so each number is shipped small. A decoder column has unit
    # length (the SAE renormalises it at every step), so its angle alone places it; angles and cosines are
    # int16 with a scale each (figure.packed); a firing rate is a bar, drawn to 1/255 of the axis.
    angle, angle_scale = packed(np.arctan2(decoder[..., 1], decoder[..., 0]).ravel())
    freq = finite(sae["latent_frequency"]).ravel()
    freq_scale = float(freq.max()) / 255 if freq.max() > 0 else 1.0
    cos, cos_scale = packed(finite(sae["best_cosine"]).ravel())
    scales = {"angle": angle_scale, "freq": freq_scale, "cos": cos_scale}
    frames = ColumnDataSource({"angle": angle, "dead": sae["dead"].astype(np.int8).ravel(),
                               "freq": np.round(freq / freq_scale).astype(np.uint8)})  # ((f·R + r)·S + s)·L + l
    matches = ColumnDataSource({"cos": cos, "latent": sae["best_latent"].astype(np.int8).ravel()})  # (…)·N + i
    metrics = ColumnDataSource({name: finite(sae[name]).ravel() for name in
                                ("explained_variance", "l0", "n_recovered", "n_dead", "mse")})  # (f·R + r)·S + s

    sample = finite(sae["hidden_sample"])
    reach = float(max(np.abs(sample).max(), 1.0)) * 1.2
    space = square_plane("Inputs h, true directions, SAE latents", reach, height=420)
    space.scatter(sample[:, 0], sample[:, 1], size=3, color=palette.DATA, alpha=0.3,
                  legend_label="inputs h = W x")
    true_len = reach * 0.95
    tips = features * true_len
    space.segment(np.zeros(N), np.zeros(N), tips[:, 0], tips[:, 1], color=colours, line_width=2,
                  line_dash="dashed", legend_label="true feature directions")
    space.add_layout(LabelSet(x="x", y="y", text="text", text_font_size="12px", text_align="center",
                              text_baseline="middle", tags=["ink"],
                              source=ColumnDataSource({"x": features[:, 0] * reach * 0.86 + features[:, 1] * 0.1,
                                                       "y": features[:, 1] * reach * 0.86 - features[:, 0] * 0.1,
                                                       "text": names})))
    # Every latent, alive or dead, is one row of one source, drawn by one spoke and one mark renderer: each
    # renderer a frame updates costs its own data pass and repaint, so four renderers cost twice two.
    latents = ColumnDataSource({name: [] for name in
                                ("x0", "y0", "x1", "y1", "colour", "width", "dash", "marker", "angle", "size",
                                 "mark_width")})
    latent_len = reach * 0.7
    space.segment("x0", "y0", "x1", "y1", source=latents, color="colour", line_width="width", line_dash="dash",
                  level="overlay")
    space.scatter("x1", "y1", source=latents, marker="marker", angle="angle", size="size", color="colour",
                  line_width="mark_width", level="overlay")
    # the legend's swatches: invisible one-row renderers in each kind's style (the render script shows the
    # dead latents' entry only while there are some)
    for colour, width, dash, label in ((LATENT, 3, "solid", "alive latent (decoder column)"),
                                       (DROPPED, 2, "dotted", "dead latent")):
        swatch = space.segment([0.0], [0.0], [0.0], [0.0], color=colour, line_width=width, line_dash=dash,
                               visible=False, legend_label=label)
        swatch.tags = [SWATCH_TAG]
    legend = space.legend[0]
    space.center.remove(legend)  # below the plane, not over the spokes
    legend.update(label_text_font_size="10px", padding=2, spacing=0, ncols=2, margin=0)
    space.add_layout(legend, "below")
    dead_entry = next(item for item in legend.items if item.label.value == "dead latent")
    dead_entry.visible = False

    match_bars = ColumnDataSource({"feature": names, "cos": [0.0] * N, "colour": colours,
                                   "text": [""] * N, "text_y": [0.0] * N})
    cos_fig = book_figure("Closest live latent: cosine per true direction", 200,
                          x_range=FactorRange(*names), y_range=Range1d(0, 1.2), y_axis_label="cosine")
    # a direction not recovered is grey and its cosine carries a ✗ (a hatch pattern is rebuilt every frame)
    cos_fig.vbar(x="feature", top="cos", width=0.7, source=match_bars, color="colour", level="overlay")
    cos_fig.add_layout(LabelSet(x="feature", y="text_y", text="text", source=match_bars, text_align="center",
                                text_font_size="10px", level="overlay", tags=["ink"]))
    recovered_at = run.recovered_cosine
    cos_fig.add_layout(Span(location=recovered_at, dimension="width", line_dash="dashed",
                            line_color=palette.MUTED, line_width=1))

    latent_bars = ColumnDataSource({"latent": latent_names, "freq": [0.0] * L, "colour": [LATENT] * L,
                                    "alpha": [1.0] * L})
    dead_marks = ColumnDataSource({"latent": [], "y": []})  # the × under each dead latent
    freq_top = float(max(0.05, finite(sae["latent_frequency"]).max())) * 1.25
    freq_fig = book_figure("How often each latent fires (× = dead)", 200, x_range=FactorRange(*latent_names),
                           y_range=Range1d(0, freq_top), x_axis_label="latent", y_axis_label="fires on")
    freq_fig.vbar(x="latent", top="freq", width=0.7, source=latent_bars, color="colour", alpha="alpha",
                  level="overlay")
    freq_fig.scatter("latent", "y", source=dead_marks, marker="x", size=12, color=DROPPED, line_width=2,
                     level="overlay")

    resample_steps = [int(s) for s in run.resample_steps]
    player = Player(chart_id, steps, choices=(run_choice(run), seed_choice(run)), step_label="Step")
    ready = player.bind(
        "superposition/pentagon_sae_render.js", frames=frames, scales=scales, matches=matches, metrics=metrics, latents=latents,
        dead_entry=dead_entry, match_bars=match_bars, latent_bars=latent_bars, dead_marks=dead_marks, n_runs=R, n_seeds=S, n_latents=L,
        n_features=N, exists=exists.astype(int).tolist(), colours=colours, dropped_colour=DROPPED,
        latent_colour=LATENT, latent_len=latent_len, recovered_at=recovered_at,
        resample=[bool(r) for r in sae["resample"]], resample_steps=resample_steps,
        steps=steps.astype(int).tolist(), names=names,
    )
    layout = column(row(space, column(cos_fig, freq_fig, sizing_mode="stretch_width"),
                        sizing_mode="stretch_width"),
                    player.layout, sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[chart_id], layout, [ready])


def chart(chart_id: str, runs) -> Chart:
    """One of the chapter's charts, from ``runs.runs()``."""
    if chart_id == STAR_ID:
        return star_chart(runs.toy)
    if chart_id == PHASES_ID:
        return phase_chart(runs.phase)
    if chart_id == SAE_ID:
        return sae_chart(runs.sae, runs.toy.timeline["importance"])
    raise KeyError(f"no chart {chart_id!r} here; the {PAGE} page has {list(CHARTS)}")
