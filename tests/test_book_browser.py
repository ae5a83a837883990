"""The built book, read as a reader reads it: every page in headless Chromium from a local server."""

import pytest
import yaml

from browser import ROOT, SITE, distinct_colours, model_value, open_page

from explainers.charts import REGISTRY


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc["parts"]:
        walk(part["chapters"])
    return ["index.html", *(f"{f}.html" for f in files), "search.html", "genindex.html"]


def charts_on(page) -> list:
    return page.locator("figure.explainers-chart").all()


def assert_charts_drew(page):
    figures = charts_on(page)
    assert page.evaluate("window.Bokeh ? Bokeh.documents.length : 0") == len(figures)
    for figure in figures:
        figure.scroll_into_view_if_needed()
        colours = distinct_colours(figure.screenshot())
        assert colours > 200, f"{figure.get_attribute('id')} looks blank ({colours} colours)"


@pytest.mark.parametrize("path", toc_pages())
def test_page_loads_without_errors_or_foreign_requests_and_charts_draw(browser, site_url, path):
    assert (SITE / path).exists(), f"{path} was not built"
    visit = open_page(browser, f"{site_url}/{path}")
    try:
        assert visit.problems == []
        assert_charts_drew(visit.page)
    finally:
        visit.page.context.close()


@pytest.fixture
def neuron(browser, site_url):
    def visit(hash_text=""):
        return open_page(browser, f"{site_url}/book/one-neuron.html{hash_text}")

    opened = []
    yield lambda hash_text="": opened.append(visit(hash_text)) or opened[-1]
    for v in opened:
        assert v.problems == []
        v.page.context.close()


def readout(page) -> str:
    return page.locator("#chart-one-neuron .explainers-readout").inner_text()


def picture(page) -> bytes:
    return page.locator("#chart-one-neuron").screenshot()


def test_arrow_key_steps_the_chart_and_writes_the_permalink(neuron):
    page = neuron().page
    assert model_value(page, "one-neuron-slider", "value") == 0
    before_text, before_picture = readout(page), picture(page)
    page.locator("#chart-one-neuron").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert model_value(page, "one-neuron-slider", "value") == 1
    assert readout(page) != before_text and "Step 1" in readout(page)
    assert picture(page) != before_picture, "the chart must redraw for the new step"
    assert page.evaluate("location.hash") == "#one-neuron.lr=0.1&step=1"
    page.keyboard.press("End")
    page.wait_for_timeout(200)
    assert model_value(page, "one-neuron-slider", "value") == model_value(page, "one-neuron-slider", "end")


def test_play_advances_and_pause_stops(neuron):
    page = neuron().page
    page.locator("#chart-one-neuron button", has_text="Play").click()
    page.wait_for_timeout(800)
    playing_at = model_value(page, "one-neuron-slider", "value")
    assert playing_at > 0
    page.locator("#chart-one-neuron button", has_text="Pause").click()
    page.wait_for_timeout(300)
    paused_at = model_value(page, "one-neuron-slider", "value")
    page.wait_for_timeout(500)
    assert model_value(page, "one-neuron-slider", "value") == paused_at


def test_permalink_opens_the_chart_at_its_run_and_step(neuron):
    page = neuron("#one-neuron.lr=1.05&step=40").page
    assert model_value(page, "one-neuron-slider", "value") == 40
    assert model_value(page, "one-neuron-lr", "active") == 4
    assert "diverged at step" in readout(page)
    assert "NaN" not in readout(page) and "Infinity" not in readout(page)


def test_malformed_permalink_is_ignored(neuron):
    page = neuron("#one-neuron.lr=%3Cscript%3E&step=-1&step=NaN").page
    assert model_value(page, "one-neuron-slider", "value") == 0
    assert model_value(page, "one-neuron-lr", "active") == 1


def test_dark_mode_switch_repaints_the_chart_ink(neuron):
    page = neuron().page
    ink = "() => Bokeh.documents.flatMap(d => [...d.all_models]).find(m => 'major_label_text_color' in m).major_label_text_color"
    light = page.evaluate(ink)
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    page.wait_for_timeout(200)
    assert page.evaluate(ink) != light
    # the chart sits on the dark page, not in the light panel the theme gives other outputs
    panel = "getComputedStyle(document.querySelector('#chart-one-neuron').closest('.cell_output')).backgroundColor"
    assert page.evaluate(panel) in ("rgba(0, 0, 0, 0)", "transparent")


@pytest.mark.parametrize("chart_id", list(REGISTRY))
def test_slide_copy_is_listed_and_works_offline(browser, site_url, chart_id):
    html_file, png = SITE / "charts" / f"{chart_id}.html", SITE / "charts" / f"{chart_id}.png"
    assert html_file.exists() and png.exists()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"charts/{chart_id}.html" in (SITE / "book" / "charts-for-slides.html").read_text()
    visit = open_page(browser, html_file.resolve().as_uri())
    try:
        assert visit.problems == []
        assert_charts_drew(visit.page)
    finally:
        visit.page.context.close()


def test_arrow_key_steps_the_serial_vs_parallel_cells(browser, site_url):
    visit = open_page(browser, f"{site_url}/book/cpu-vs-gpu.html")
    page, chart = visit.page, visit.page.locator("#chart-serial-vs-parallel")
    try:
        chart.scroll_into_view_if_needed()
        assert model_value(page, "serial-vs-parallel-slider", "value") == 0
        readout = chart.locator(".explainers-readout")
        before_text, before_picture = readout.inner_text(), chart.screenshot()
        chart.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
        assert model_value(page, "serial-vs-parallel-slider", "value") == 1
        assert readout.inner_text() != before_text and "Time step 1" in readout.inner_text()
        assert "Serial = 1/" in readout.inner_text()  # one cell done after one serial step
        assert chart.screenshot() != before_picture, "the cells must change colour for the new step"
        assert page.evaluate("location.hash") == "#serial-vs-parallel.step=1"
        page.keyboard.press("End")
        page.wait_for_timeout(200)
        assert "Serial = 64/64 done (finished in 64 steps)" in readout.inner_text()
        assert visit.problems == []
    finally:
        page.context.close()
