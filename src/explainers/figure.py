"""A Bokeh figure in the book's house style: transparent, toolbar-free, stretched to the column."""
import numpy as np
from bokeh.core.property.vectorization import Field
from bokeh.models import ColumnDataSource, GlyphRenderer, Legend, Plot
from bokeh.plotting import figure

SWATCH_TAG = "legend-swatch"


def packed(values) -> tuple[np.ndarray, float]:
    """``values`` as int16 and the scale that restores them (value = int × scale): half the bytes of float32
    on the page, to 1/32,767 of the largest value, far below a pixel. The chart's JS multiplies back."""
    values = np.asarray(values, dtype=np.float64)
    scale = float(np.abs(values).max()) / 32767 if values.size else 0.0
    return (np.round(values / scale) if scale else np.zeros(values.shape)).astype(np.int16), scale or 1.0


def book_figure(title: str, height: int, **kwargs):
    fig = figure(title=title, height=height, sizing_mode="stretch_width", toolbar_location=None,
                 tools="", background_fill_color=None, border_fill_color=None, **kwargs)
    fig.title.text_font_size = "13px"
    fig.title.text_font_style = "normal"
    fig.outline_line_color = None
    fig.min_border_left = 48
    return fig


def steady_legends(root) -> None:
    """Keep every legend out of the frame-by-frame repaint of the marks that move.

    BokehJS 3.9 rebuilds a legend's items (new swatch canvases, a forced page layout) whenever the data
    of a renderer it names changes, and repaints a legend drawn at the overlay level with every frame. So a
    legend entry for a moving mark (a renderer at the ``overlay`` level) names a swatch instead: an
    invisible renderer with the same glyph and a data source that never changes. The legend then stays at
    its own level, painted only when the static picture is.
    """
    for plot in list(root.select({"type": Plot})):
        swatches = {}
        for legend in plot.select({"type": Legend}):
            for item in legend.items:
                # an entry that reads its label or its colour from a data row keeps its renderer
                if item.index is None and not isinstance(item.label, Field):
                    item.renderers = [_swatch(plot, r, swatches) for r in item.renderers]
            legend.level = "annotation"


def _swatch(plot, renderer, swatches):
    if not isinstance(renderer, GlyphRenderer) or renderer.level != "overlay" or SWATCH_TAG in renderer.tags:
        return renderer
    if renderer.id not in swatches:
        swatch = GlyphRenderer(data_source=ColumnDataSource(_one_row(renderer)), glyph=renderer.glyph,
                               visible=False, tags=[SWATCH_TAG])
        plot.renderers.append(swatch)
        swatches[renderer.id] = swatch
    return swatches[renderer.id]


def _one_row(renderer) -> dict:
    """One row of the renderer's columns, which the legend needs to draw a swatch: the source's first row,
    or a placeholder (0, or a two-point line for a glyph of several lines) where the source starts empty."""
    source, glyph = renderer.data_source, renderer.glyph
    ragged = {getattr(glyph, name) for name in ("xs", "ys") if isinstance(getattr(glyph, name, None), str)}
    row = {}
    for name in source.column_names:
        first = source.data[name][:1]
        row[name] = first if len(first) else ([[0.0, 0.0]] if name in ragged else [0.0])
    return row
