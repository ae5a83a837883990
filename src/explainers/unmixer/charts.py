"""The learned-dictionary chart: atoms growing from noise into strokes, for a few sparsity strengths."""
from __future__ import annotations

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
from bokeh.palettes import Greys256

from .. import palette
from ..embed import Chart
from ..figure import book_figure
from ..player import Choice, Player
from ..timeline import display_frames

PAGE = "unmixer"
CHART_ID = "dictionary-grid"
CHARTS = {CHART_ID: "Learning a dictionary of strokes from a drawing, over sparsity strengths"}
SHOWN_BESIDE = (0.0, 0.3)  # the runs on the chart's λ control beside the book's own strength: none, strong
SIDE, GAP = 8, 1  # pixels per atom side, pixels between atoms
FULL_BRIGHTNESS = 1 / 16  # an atom used by 1 patch in 16 or more is drawn at full brightness
GREY_STEP = 4  # 64 grey levels: no step shows on an 8-pixel atom, and the page's data gzips 16% smaller


def mosaic(atoms: np.ndarray, firing: np.ndarray) -> np.ndarray:
    """The atoms (uint8, 127.5 = zero) as one image, each dimmed by how rarely it fires: dead is black."""
    per_row = int(np.ceil(np.sqrt(len(atoms))))
    size = per_row * SIDE + (per_row + 1) * GAP
    image = np.zeros((size, size), np.float32)
    brightness = np.sqrt(np.clip(firing / FULL_BRIGHTNESS, 0, 1))
    for k, atom in enumerate(atoms):
        r, c = divmod(k, per_row)
        top, left = GAP + r * (SIDE + GAP), GAP + c * (SIDE + GAP)
        image[top:top + SIDE, left:left + SIDE] = atom.reshape(SIDE, SIDE) * brightness[k]
    grey = np.clip(np.round(image / GREY_STEP), 0, 255 // GREY_STEP) * GREY_STEP
    return np.flipud(grey).astype(np.uint8)  # Bokeh draws row 0 at the bottom


def tradeoff(runs) -> dict[str, np.ndarray]:
    """The sparsity trade-off across runs, from their last frames: explained variance against L0."""
    last = [run.n_frames - 1 for run in runs]
    n_atoms = [run.firing_frequency.shape[1] for run in runs]
    return {
        "sparsity": np.array([run.sparsity for run in runs], np.float32),
        "l0": np.array([run.l0[i] for run, i in zip(runs, last)], np.float32),
        "explained_variance": np.array([run.explained_variance[i] for run, i in zip(runs, last)],
                                       np.float32),
        "dead_fraction": np.array([run.dead[i] / n for run, i, n in zip(runs, last, n_atoms)],
                                  np.float32),
    }


def chart(chart_id: str, runs) -> Chart:
    """The chapter's chart, from ``runs.runs()``: the runs on the λ control, and the whole sweep's
    trade-off beside them."""
    if chart_id != CHART_ID:
        raise KeyError(f"no chart {chart_id!r} here; the {PAGE} page has {list(CHARTS)}")
    shown = {*SHOWN_BESIDE, runs.book_sparsity}
    return grid_chart([d for d in runs.dictionaries if d.sparsity in shown], tradeoff(runs.dictionaries))


def grid_chart(runs, tradeoff: dict, chart_id: str = CHART_ID, max_frames: int = 10) -> Chart:
    """``runs``: dictionary runs (``runs.Dictionary``) that differ only in sparsity; ``tradeoff``:
    ``tradeoff`` over a wider sweep that includes them."""
    frames = display_frames(runs[0].n_frames, max_frames)
    steps = runs[0].step[frames]
    images, stats = [], {"explained_variance": [], "l0": [], "dead": []}
    for run in runs:
        for f in frames:
            images.append(mosaic(run.atoms[f], run.firing_frequency[f]))
            for name in stats:
                stats[name].append(float(getattr(run, name)[f]))
    size = images[0].shape[0]

    grid = book_figure("64 atoms (brightness = how often each fires)", 360,
                       x_range=Range1d(0, size), y_range=Range1d(0, size), match_aspect=True)
    grid.axis.visible = False
    grid.grid.visible = False
    grid.max_width = 340  # narrower with the screen, never wider
    shown = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
    grid.image("image", x="x", y="y", dw="dw", dh="dh", source=shown,
               color_mapper=LinearColorMapper(palette="Greys256", low=0, high=255))

    pictures_fig = book_figure("Drawing, and its rebuild", 200,
                               x_range=Range1d(0, 268), y_range=Range1d(0, 128), match_aspect=True)
    pictures_fig.axis.visible = False
    pictures_fig.grid.visible = False
    pictures = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
    # ink on paper, in the page's theme (theme.js repaints mappers tagged "paper")
    pictures_fig.image("image", x="x", y="y", dw="dw", dh="dh", source=pictures,
                       color_mapper=LinearColorMapper(palette=Greys256[::-1], low=0, high=255, tags=["paper"]))

    sweep = ColumnDataSource({k: v for k, v in tradeoff.items()})
    sweep.data["label"] = [f"λ={s:g}" for s in tradeoff["sparsity"]]
    # each label beside its point, inside the plot: left of the rightmost points, below the points near
    # the top, level with the points near the bottom
    right = np.asarray(tradeoff["l0"]) > 0.75 * np.max(tradeoff["l0"])
    low = np.asarray(tradeoff["explained_variance"]) < 0.1
    sweep.data["align"] = np.where(right, "right", "left").tolist()
    sweep.data["dx"] = np.where(right, -7, 7).tolist()
    sweep.data["baseline"] = np.where(low, "middle", "top").tolist()
    sweep.data["dy"] = np.where(low, 0, 5).tolist()
    trade = book_figure("Trade-off over λ", 260,
                        x_axis_label="L0: atoms active per patch", y_axis_label="explained variance")
    trade.line("l0", "explained_variance", source=sweep, color=palette.MUTED, line_width=2)
    trade.scatter("l0", "explained_variance", source=sweep, size=9, color=palette.DATA,
                  legend_label="one run per λ")
    trade.text("l0", "explained_variance", text="label", source=sweep, x_offset="dx", y_offset="dy",
               text_align="align", text_baseline="baseline", text_font_size="11px", tags=["ink"])
    chosen = ColumnDataSource({"l0": [], "ev": []})
    trade.scatter("l0", "ev", source=chosen, marker="diamond", size=18, color=palette.CURRENT,
                  legend_label="run shown above", level="overlay")
    trade.legend.location = "bottom_right"

    sparsities = [run.sparsity for run in runs]
    rows = [int(np.argmin(np.abs(tradeoff["sparsity"] - s))) for s in sparsities]
    labels = [f"{s:g}" for s in sparsities]
    player = Player(chart_id, steps, choices=(Choice("sparsity", "Sparsity strength λ", tuple(labels),
                                                     tuple(labels), min(1, len(runs) - 1)),))
    ready = player.bind(
        "unmixer/render.js",
        grid=shown, mosaics=ColumnDataSource({"image": images}), size=size, n_frames=len(frames),
        pictures=pictures, drawings=ColumnDataSource({"image": [np.flipud(r.drawing) for r in runs]}),
        reconstructions=ColumnDataSource({"image": [np.flipud(r.reconstruction) for r in runs]}),
        stats=ColumnDataSource({k: np.array(v, np.float32) for k, v in stats.items()}),
        tradeoff=sweep, chosen=chosen, run_rows=rows, labels=labels,
        n_atoms=runs[0].firing_frequency.shape[1],
    )
    layout = column(row(grid, column(pictures_fig, trade, sizing_mode="stretch_width"),
                        sizing_mode="stretch_width"),
                    player.layout, sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[chart_id], layout, [ready])
