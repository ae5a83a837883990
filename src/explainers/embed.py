"""Putting a chart on a page: ``components()`` for the book, a standalone offline file for slides.

A ``Chart`` is a Bokeh layout with a stable id, a title, and the callbacks to run once its document is
ready (the player's). Every chart is wrapped in the same ``<figure id="chart-ID">`` markup, in the book
and in its standalone file, so keyboard focus, permalinks and theming behave the same in both. Before a
chart joins its document, it is made to read on any screen: its rows wrap on narrow ones, its controls
take the page's colours, its plots' words fit their width (fit_text.js), a legend shows only entries that
can draw their swatch, and a "Skip to the chart" link joins the page's first Tab stops. Its plots repaint
without redoing what did not change (quick_repaint.js): a scrubbed frame costs only the marks that moved.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from bokeh.document import Document
from bokeh.embed import components
from bokeh.events import DocumentReady
from bokeh.models import CustomJS, GlyphRenderer, InlineStyleSheet, Legend, Plot, Row, Widget
from bokeh.resources import Resources

from .assets import asset
from .figure import steady_legends
from .markup import Html

CHARTS_URL = "../charts/"  # every page lives in book/, the slide files in charts/


@dataclass
class Chart:
    id: str
    title: str
    layout: object
    on_ready: list = field(default_factory=list)
    caption: str = ""


# Panels side by side (plots, columns of plots) wrap onto lines of their own below this width each:
# two panels share a line from about 500 px, three from about 560 px; a phone shows one per line.
PANEL_MIN_PX, PANELS_MIN_PX = 180, 480
WRAP = ":host { flex-wrap: wrap; }"


def fit_narrow_screens(layout) -> None:
    """Let every row of the chart wrap rather than run past its column: a row's panels get a minimum
    width, so on a narrow screen each takes a line of its own; its controls wrap the same way."""
    for row in layout.select({"type": Row}):
        if any(getattr(sheet, "css", None) == WRAP for sheet in row.stylesheets):
            continue
        row.stylesheets = [*row.stylesheets, InlineStyleSheet(css=WRAP)]
        panels = [child for child in row.children if not isinstance(child, Widget)]
        for panel in panels:
            if panel.min_width is None:
                panel.min_width = max(PANEL_MIN_PX, PANELS_MIN_PX // len(panels))


def theme_controls(layout) -> None:
    """Every control of the chart takes the page's colours (controls.css)."""
    sheet = InlineStyleSheet(css=asset("controls.css"))
    for widget in layout.select({"type": Widget}):
        if not any(getattr(s, "css", None) == sheet.css for s in widget.stylesheets):
            widget.stylesheets = [*widget.stylesheets, sheet]


# an entry is shown while any of its series has data
SHOW_ENTRY = "item.visible = renderers.some((r) => r.data_source.get_length() > 0);"


def hide_empty_legend_entries(layout) -> None:
    """A legend entry draws its swatch from its series' data, so an entry whose series is still empty
    (a path before its first step, no dead latent yet) would be a bare label. Such an entry stays out of
    its legend until its series has data, and leaves again if it empties."""
    for plot in layout.select({"type": Plot}):
        for legend in plot.select({"type": Legend}):
            for item in legend.items:
                renderers = [r for r in item.renderers if isinstance(r, GlyphRenderer)]
                if not renderers or any(len(v) for r in renderers for v in r.data_source.data.values()):
                    continue
                item.visible = False
                show = CustomJS(args={"item": item, "renderers": renderers}, code=SHOW_ENTRY)
                for source in {id(r.data_source): r.data_source for r in renderers}.values():
                    source.js_on_change("data", show)


def document(chart: Chart) -> Document:
    fit_narrow_screens(chart.layout)
    theme_controls(chart.layout)
    hide_empty_legend_entries(chart.layout)  # first: it watches the series themselves
    steady_legends(chart.layout)
    doc = Document()
    doc.add_root(chart.layout)
    doc.title = chart.title
    follow_theme = CustomJS(args={"root": chart.layout}, code=asset("theme.js") + "\nExplainersTheme.follow(root.document);")
    fit_text = CustomJS(args={"root": chart.layout}, code=asset("fit_text.js") + "\nExplainersFitText.follow(root.document);")
    skip_link = CustomJS(code=asset("skip_link.js"))
    quick_repaint = CustomJS(args={"root": chart.layout},
                             code=asset("quick_repaint.js") + "\nExplainersQuickRepaint.follow(root.document);")
    doc.js_on_event(DocumentReady, follow_theme, fit_text, skip_link, quick_repaint, *chart.on_ready)
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
             ".explainers-skip-link{position:absolute;left:-10000px}.explainers-skip-link:focus{position:static}"
             "figure{margin:0}h1{font-size:20px;font-weight:600}"
             ".explainers-readout{font-variant-numeric:tabular-nums;margin-top:6px}")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\" data-theme=\"light\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(chart.title)}</title><style>{style}</style>{bokehjs}</head>"
        f"<body><h1>{html.escape(chart.title)}</h1>{_figure(chart, div, links=False)}{script_tag}</body></html>\n"
    )


def show(chart: Chart) -> Html:
    return Html(page_html(chart))
