"""The one-neuron chart: data and fitted line, loss landscape with the descent path, loss curve."""
from __future__ import annotations

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, DataRange1d, Range1d, Span

from .. import palette
from ..embed import Chart
from ..figure import book_figure
from ..player import Choice, Player

PAGE = "one-neuron"
CHARTS = {"one-neuron": "One neuron learns: gradient descent on California Housing"}
DISPLAY_POINTS = 1500  # data points drawn (the fit uses all of them), the same ones on every build


def learning_rate_choice(runs) -> Choice:
    rates = [d.learning_rate for d in runs.descents]
    labels = tuple(f"{d.learning_rate:g} · {d.regime}" for d in runs.descents)
    title = (f"Learning rate (overshoots above 1/λmax = {runs.lr_overshoot:.2f}, "
             f"diverges above 2/λmax = {runs.lr_diverge:.2f})")
    default = next((i for i, d in enumerate(runs.descents) if d.regime == "converges"
                    and d.learning_rate >= 0.1), 0)
    return Choice("lr", title, tuple(f"{lr:g}" for lr in rates), labels, default)


def shown_points(x, y, count: int = DISPLAY_POINTS, seed: int = 0):
    """A fixed random sample of the data, so the cloud is readable and the page light."""
    shown = np.random.default_rng(seed).choice(len(x), min(count, len(x)), replace=False)
    return x[shown], y[shown]


def chart(chart_id: str, runs) -> Chart:
    """``runs``: one neuron trained at several learning rates on the same data (``RegressionRuns``)."""
    steps = runs.step
    columns = {"step": steps}
    for i, d in enumerate(runs.descents):
        columns |= {f"w{i}": d.w, f"b{i}": d.b, f"loss{i}": d.loss}
    source = ColumnDataSource(columns)

    x, y = shown_points(runs.x, runs.y)
    x_span = [float(x.min()), float(x.max())]
    y_span = [float(y.min()) - 0.2, float(y.max()) + 0.2]
    fit = book_figure("Data (blue dots) and the neuron's line (red)", 320,
                      x_range=Range1d(*x_span), y_range=Range1d(*y_span),
                      x_axis_label=f"{runs.feature} (standardized)",
                      y_axis_label="house value (standardized)")
    fit.scatter(x, y, size=3, color=palette.DATA, alpha=0.35, legend_label="block groups")
    line = ColumnDataSource({"x": [], "y": []})
    fit.line("x", "y", source=line, color=palette.CURRENT, line_width=3, legend_label="y = w·x + b",
             level="overlay")
    fit.legend.location = "top_left"

    w_axis, b_axis, grid = runs.landscape_w, runs.landscape_b, runs.landscape_loss
    # Drawn 1:1 (one unit of w as long as one unit of b), so a round bowl looks round at any width:
    # the ranges fit two invisible corners of the grid and match the aspect of the plot area.
    land = book_figure("Loss landscape over (w, b)", 320, match_aspect=True,
                       x_axis_label="w (weight)", y_axis_label="b (bias)")
    corners = land.scatter([float(w_axis[0]), float(w_axis[-1])], [float(b_axis[0]), float(b_axis[-1])],
                           alpha=0, size=1)
    land.x_range = DataRange1d(renderers=[corners], range_padding=0)
    land.y_range = DataRange1d(renderers=[corners], range_padding=0)
    levels = runs.loss_star + (float(grid.max()) - runs.loss_star) * np.linspace(0, 1, 11)[1:] ** 2
    levels = np.concatenate([[runs.loss_star], levels])
    land.contour(w_axis, b_axis, grid, levels, fill_color=palette.LANDSCAPE, fill_alpha=0.55,
                 line_color=palette.MUTED, line_alpha=0.5, line_width=1)
    path = ColumnDataSource({"xs": [], "ys": []})  # the trail, clipped to the landscape in render.js
    path_dots = ColumnDataSource({"w": [], "b": []})
    land.multi_line("xs", "ys", source=path, color=palette.PATH_EDGE, line_width=5, alpha=0.6, level="overlay")
    land.multi_line("xs", "ys", source=path, color=palette.PATH, line_width=3, legend_label="descent path",
                    level="overlay")
    land.scatter("w", "b", source=path_dots, size=5, color=palette.PATH, line_color=palette.PATH_EDGE,
                 level="overlay")
    land.scatter([runs.w_star], [runs.b_star], marker="circle", size=18, fill_color=None,
                 line_color=palette.OPTIMUM, line_width=4, legend_label="optimum")
    current = ColumnDataSource({"w": [], "b": []})
    land.scatter("w", "b", source=current, marker="diamond", size=18, color=palette.CURRENT,
                 line_color="#5c0f10", legend_label="current (w, b)", level="overlay")
    land.legend.location = "bottom_right"

    all_losses = np.concatenate([d.loss for d in runs.descents])
    loss_fig = book_figure("Loss (mean squared error) over training", 210, y_axis_type="log",
                           x_range=Range1d(0, float(steps[-1])),
                           y_range=Range1d(runs.loss_star * 0.9, float(all_losses.max()) * 1.5),
                           x_axis_label="step", y_axis_label="loss")
    loss_fig.add_layout(Span(location=runs.loss_star, dimension="width", line_dash="dashed",
                             line_color=palette.OPTIMUM, line_width=2))
    curve = ColumnDataSource({"step": [], "loss": []})
    loss_fig.line("step", "loss", source=curve, color=palette.MUTED, line_width=2)
    marker = ColumnDataSource({"step": [], "loss": []})
    loss_fig.scatter("step", "loss", source=marker, marker="diamond", size=14, color=palette.CURRENT,
                     level="overlay")

    player = Player(chart_id, steps, choices=(learning_rate_choice(runs),), step_label="Step")
    ready = player.bind(
        "regression/render.js",
        runs=source, steps=steps.astype(int).tolist(), current=current, path=path, path_dots=path_dots,
        line=line, curve=curve, marker=marker, fit_box=[*x_span, *y_span],
        landscape_box=[float(w_axis[0]), float(w_axis[-1]), float(b_axis[0]), float(b_axis[-1])],
        recorded_steps=[d.recorded_steps for d in runs.descents],
        diverged_at=[d.diverged_at for d in runs.descents],
        diverge_factor=runs.diverge_factor,
    )
    layout = column(row(fit, land, sizing_mode="stretch_width"), loss_fig, player.layout,
                    sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[chart_id], layout, [ready])
