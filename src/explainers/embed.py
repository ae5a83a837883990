"""Putting a chart on a page: ``components()`` for the book, a standalone offline file for slides.

A ``Chart`` is a Bokeh layout with a stable id, a title, and the callbacks to run once its document is
ready (the player's). Every chart is wrapped in the same ``<figure id="chart-ID">`` markup, in the book
and in its standalone file, so keyboard focus, permalinks and theming behave the same in both.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from bokeh.document import Document
from bokeh.embed import components
from bokeh.events import DocumentReady
from bokeh.models import CustomJS
from bokeh.resources import Resources

from .assets import asset
from .markup import Html

CHARTS_URL = "../charts/"  # every page lives in book/, the slide files in charts/


@dataclass
class Chart:
    id: str
    title: str
    layout: object
    on_ready: list = field(default_factory=list)
    caption: str = ""


def document(chart: Chart) -> Document:
    doc = Document()
    doc.add_root(chart.layout)
    doc.title = chart.title
    follow_theme = CustomJS(args={"root": chart.layout}, code=asset("theme.js") + "\nExplainersTheme.follow(root.document);")
    doc.js_on_event(DocumentReady, follow_theme, *chart.on_ready)
    return doc


def _figure(chart: Chart, div: str, links: bool) -> str:
    link = ""
    if links:
        link = (f'<a class="explainers-slides" href="{CHARTS_URL}{chart.id}.html" '
                f'title="A standalone, offline copy of this chart for slides">Open for slides</a>')
    caption = f"<figcaption>{html.escape(chart.caption)} {link}</figcaption>" if (chart.caption or link) else ""
    # the player writes the frame's step and values into the readout (an ARIA live region)
    readout = '<div class="explainers-readout" role="status" aria-live="polite"></div>'
    return (f'<figure class="explainers-chart" id="chart-{chart.id}" tabindex="0" '
            f'aria-label="{html.escape(chart.title)}">{div}{readout}{caption}</figure>')


def page_html(chart: Chart) -> str:
    """The HTML a chapter shows: the chart's div and the script that carries its data."""
    script_tag, div = components(document(chart).roots[0])
    return _figure(chart, div, links=True) + script_tag


def standalone_html(chart: Chart) -> str:
    """One offline file with BokehJS inlined: open it from a USB stick in a lecture hall."""
    script_tag, div = components(document(chart).roots[0])
    bokehjs = Resources(mode="inline", components=["bokeh", "bokeh-widgets"]).render_js()
    style = ("body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}"
             "figure{margin:0}h1{font-size:20px;font-weight:600}"
             ".explainers-readout{font-variant-numeric:tabular-nums;margin-top:6px}")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\" data-theme=\"light\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(chart.title)}</title><style>{style}</style>{bokehjs}</head>"
        f"<body><h1>{html.escape(chart.title)}</h1>{_figure(chart, div, links=False)}{script_tag}</body></html>\n"
    )


def show(chart: Chart) -> Html:
    return Html(page_html(chart))
