"""The steering chart: pick a concept and a method, scrub the strength, and read the answers, with the
share that mention the concept and how fluent they stay, for both methods, against strength."""
from __future__ import annotations

import html
import math

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Div, InlineStyleSheet, Range1d, Span

from .. import palette
from ..embed import Chart
from ..figure import book_figure
from ..player import Choice, Player
from .words import METHOD_NAMES, METHODS, MIN_MENTION, highlighted, reproduce_command

PAGE = "steering"
CHART_ID = "steering-strength"
CHARTS = {CHART_ID: "Steering SmolLM2: answers, mentions and fluency against strength"}
METHOD_COLOURS = {"feature": palette.DATA, "direction": "#ff7f0e"}
LEGEND_NAMES = {"feature": "feature", "direction": "mean difference"}  # short: the legend sits above a half-width plot
ANSWERS_CSS = """
:host { display: block; width: 100%; }
.answers { font-size: 14px; line-height: 1.45; color: inherit; }
.answers ol { margin: 0.3em 0 0 1.4em; padding: 0; }
.answers li { margin-bottom: 0.35em; }
.answers .prompt { font-weight: 600; }
.answers mark { background: rgba(255, 200, 0, 0.55); color: inherit; padding: 0 1px; border-radius: 2px; }
.answers code { font-size: 12px; }
.answers .say { opacity: 0.8; font-size: 12px; }
"""


def answers_html(setting: dict, prompts, concept_name: str) -> str:
    items = "".join(f"<li><span class='prompt'>{html.escape(p)}</span> {highlighted(setting['concept'], t)}</li>"
                    for (p, _), t in zip(prompts, setting["texts"]))
    said = sum(setting["mentions"])
    command = reproduce_command(setting["concept"], setting["method"], setting["strength"])
    return (f"<div class='answers'><div class='say'>{METHOD_NAMES[setting['method']]}, strength "
            f"{setting['strength']:g}: {said} of {len(setting['texts'])} answers mention {html.escape(concept_name)} "
            f"(marked). Reproduce: <code>{html.escape(command)}</code></div><ol>{items}</ol></div>")


def steering_chart(runs, chart_id: str = CHART_ID) -> Chart:
    """``runs``: the ``runs.SteeringRuns``."""
    concepts = runs.concept_names
    steered = list(runs.concepts)
    strengths = [float(s) for s in runs.strengths]
    by_key = {(s["concept"], s["method"], s["strength"]): s for s in runs.settings}
    methods = list(METHODS)
    # curves[c][m] = {"mention": [...], "loss": [...], "repetition": [...]}, html[c][m][strength index]
    curves = [[{k: [by_key[(c, m, s)][k] for s in strengths] for k in ("mention_fraction", "loss", "repetition")}
               for m in methods] for c in steered]
    pages = [[[answers_html(by_key[(c, m, s)], runs.prompts, concepts.get(c, c)) for s in strengths]
              for m in methods] for c in steered]
    human_loss = runs.human["loss"]
    max_loss = max([human_loss] + [v for c in curves for m in c for v in m["loss"] if math.isfinite(v)])
    baseline_loss = by_key[(steered[0], methods[0], strengths[0])]["loss"]

    x_range = Range1d(min(strengths) - 0.2, max(strengths) + 0.2)
    mention = book_figure("Answers that mention the concept", 230, x_range=x_range, y_range=Range1d(-0.05, 1.05),
                          x_axis_label="strength (× the feature's largest activation)", y_axis_label="share of answers")
    fluency = book_figure("Unsteered model's loss on the answer (dotted: unsteered answers, dash-dot: people's)", 230, x_range=x_range,
                          y_range=Range1d(0, max_loss * 1.1), x_axis_label="strength (× the feature's largest activation)",
                          y_axis_label="nats per token")
    fluency.add_layout(Span(location=baseline_loss, dimension="width", line_dash="dotted", line_color=palette.MUTED,
                            line_width=2))
    # the fluency bar: the same model's loss on answers people wrote to the same prompts
    fluency.add_layout(Span(location=human_loss, dimension="width", line_dash="dotdash", line_color=palette.MUTED,
                            line_width=2))
    # the rule's mention bar
    mention.add_layout(Span(location=MIN_MENTION, dimension="width", line_dash="dotted", line_color=palette.MUTED,
                            line_width=2))
    lines = {}
    for m in methods:
        first = curves[0][methods.index(m)]
        lines[m] = ColumnDataSource({"x": strengths, "mention": first["mention_fraction"], "loss": first["loss"]})
        dash = "solid" if m == "feature" else "dashed"
        for fig, y in ((mention, "mention"), (fluency, "loss")):
            fig.line("x", y, source=lines[m], color=METHOD_COLOURS[m], line_width=3, line_dash=dash,
                     legend_label=LEGEND_NAMES[m])
            fig.scatter("x", y, source=lines[m], color=METHOD_COLOURS[m], size=6)
    for fig in (mention, fluency):  # above the plot: inside, it would cover the curves
        fig.legend.orientation = "horizontal"
        fig.add_layout(fig.legend[0], "above")
    marker = ColumnDataSource({"x": [], "mention": [], "loss": []})
    for fig, y in ((mention, "mention"), (fluency, "loss")):
        fig.scatter("x", y, source=marker, marker="diamond", size=16, color=palette.CURRENT, level="overlay")
    answers = Div(text=pages[0][0][0], sizing_mode="stretch_width", stylesheets=[InlineStyleSheet(css=ANSWERS_CSS)],
                  name=f"{chart_id}-answers")

    player = Player(chart_id, np.arange(len(strengths)), step_label="Strength setting", duration_s=7.0, choices=(
        Choice("concept", "Steer toward", tuple(steered), tuple(concepts.get(c, c) for c in steered)),
        Choice("method", "Method", tuple(methods), tuple(METHOD_NAMES[m] for m in methods)),
    ))
    ready = player.bind("steering/render.js", lines_feature=lines["feature"], lines_direction=lines["direction"],
                        marker=marker, answers=answers, curves=curves, pages=pages,
                        strengths=strengths, methods=methods)
    layout = column(row(mention, fluency, sizing_mode="stretch_width"), player.layout, answers,
                    sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[CHART_ID], layout, [ready])


def chart(chart_id: str, runs) -> Chart:
    """The chapter's chart from ``runs.runs()`` (its steering run)."""
    if chart_id != CHART_ID:
        raise KeyError(f"no steering chart {chart_id!r}")
    return steering_chart(runs)
