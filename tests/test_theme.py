"""Charts follow the book's light/dark switch, whatever annotations they carry."""
import numpy as np
from bokeh.models import ColorBar, LinearColorMapper

from browser import open_page

from explainers.embed import Chart, standalone_html
from explainers.figure import book_figure


def test_dark_switch_repaints_axes_and_colour_bars_without_errors(browser, tmp_path):
    fig = book_figure("a heat map with a colour bar", 200)
    mapper = LinearColorMapper(palette="Viridis256", low=0, high=1)
    fig.image(image=[np.array([[0.0, 1.0], [1.0, 0.0]])], x=0, y=0, dw=1, dh=1, color_mapper=mapper)
    fig.add_layout(ColorBar(color_mapper=mapper, name="bar"), "right")
    page_file = tmp_path / "chart.html"
    page_file.write_text(standalone_html(Chart("theme-probe", "theme probe", fig)))
    visit = open_page(browser, page_file.as_uri())
    try:
        colour = "() => Bokeh.documents[0].get_model_by_name('bar').major_label_text_color"
        light = visit.page.evaluate(colour)
        visit.page.evaluate("document.documentElement.dataset.theme = 'dark'")
        visit.page.wait_for_timeout(200)
        assert visit.page.evaluate(colour) != light
        assert visit.problems == []
    finally:
        visit.page.context.close()
