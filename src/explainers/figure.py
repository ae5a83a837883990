"""A Bokeh figure in the book's house style: transparent, toolbar-free, stretched to the column."""
from bokeh.plotting import figure


def book_figure(title: str, height: int, **kwargs):
    fig = figure(title=title, height=height, sizing_mode="stretch_width", toolbar_location=None,
                 tools="", background_fill_color=None, border_fill_color=None, **kwargs)
    fig.title.text_font_size = "13px"
    fig.title.text_font_style = "normal"
    fig.outline_line_color = None
    fig.min_border_left = 48
    return fig
