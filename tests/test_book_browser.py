"""The built book, read as a reader reads it: every page in headless Chromium from a local server."""

import pytest
import yaml

from browser import ROOT, SITE, distinct_colours, model_value, open_page

from explainers.charts import REGISTRY
from explainers.steering.train import SteeringConfig


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


def test_grabbing_the_slider_while_playing_pauses(neuron):
    page = neuron().page
    page.locator("#chart-one-neuron button", has_text="Play").click()
    page.wait_for_timeout(300)
    # what a drag does to the model: the slider's value changes from outside the player
    page.evaluate("Bokeh.documents.map(d => d.get_model_by_name('one-neuron-slider')).find(Boolean).value = 30")
    page.wait_for_timeout(400)
    assert model_value(page, "one-neuron-slider", "value") == 30
    assert model_value(page, "one-neuron-play", "label").endswith("Play")


def test_permalink_opens_the_chart_at_its_run_and_step(neuron):
    page = neuron("#one-neuron.lr=1.05&step=40").page
    assert model_value(page, "one-neuron-slider", "value") == 40
    from explainers.regression.train import BOOK_LEARNING_RATES

    assert model_value(page, "one-neuron-lr", "active") == BOOK_LEARNING_RATES.index(1.05)
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
    preview = SITE / "charts" / f"{chart_id}.preview.png"  # what the slides page shows, linking the full PNG
    assert preview.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and preview.stat().st_size < png.stat().st_size / 2
    assert f"charts/{chart_id}.preview.png" in (SITE / "book" / "charts-for-slides.html").read_text()
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


def test_superposition_star_steps_with_the_keyboard_and_switches_sparsity(browser, site_url):
    visit = open_page(browser, f"{site_url}/book/superposition.html")
    page, chart = visit.page, visit.page.locator("#chart-superposition-star")
    try:
        chart.scroll_into_view_if_needed()
        readout = chart.locator(".explainers-readout")
        assert model_value(page, "superposition-star-slider", "value") == 0
        assert "S = 0.99" in readout.inner_text()  # opens on the sparsest run, where the pentagon forms
        before_text, before_picture = readout.inner_text(), chart.screenshot()
        chart.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
        assert model_value(page, "superposition-star-slider", "value") == 1
        assert readout.inner_text() != before_text and "Step " in readout.inner_text()
        assert chart.screenshot() != before_picture, "the arrows must move for the new step"
        page.keyboard.press("End")
        page.wait_for_timeout(200)
        sparse_text, sparse_picture = readout.inner_text(), chart.screenshot()
        assert "5 of 5" in sparse_text
        chart.get_by_text("S = 0 ·").click()  # the dense run
        page.wait_for_timeout(300)
        assert model_value(page, "superposition-star-s", "active") == 0
        dense_text = readout.inner_text()
        assert dense_text != sparse_text and "S = 0 ·" in dense_text and "2 of 5" in dense_text
        assert chart.screenshot() != sparse_picture, "switching the sparsity must redraw the star"
        assert page.evaluate("location.hash").startswith("#superposition-star.s=0&step=")
        assert visit.problems == []
    finally:
        page.context.close()


def test_scrubbing_moves_the_reward_marker_and_the_cart(browser, site_url):
    visit = open_page(browser, f"{site_url}/book/learning-from-reward.html")
    page = visit.page
    cart_x = ("() => { const m = Bokeh.documents.map((d) => d.get_model_by_name('cartpole-agent-cart'))"
              ".find(Boolean); return [m.data.x[0], m.data.tip_x[0]]; }")
    try:
        rewards = page.locator("#chart-cartpole-rewards")
        rewards.scroll_into_view_if_needed()
        before_text, before_picture = rewards.locator(".explainers-readout").inner_text(), rewards.screenshot()
        rewards.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
        assert model_value(page, "cartpole-rewards-slider", "value") == 1
        text = rewards.locator(".explainers-readout").inner_text()
        assert text != before_text and "Episode 2" in text
        assert rewards.screenshot() != before_picture, "the current-episode marker must move"
        assert page.evaluate("location.hash") == "#cartpole-rewards.step=2"

        agent = page.locator("#chart-cartpole-agent")
        agent.scroll_into_view_if_needed()
        cart_view = agent.locator(".bk-Figure").first  # the cart and pole (the layout's first plot)
        before_state, before_cart = page.evaluate(cart_x), cart_view.screenshot()
        agent.focus()
        for _ in range(10):
            page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
        assert model_value(page, "cartpole-agent-slider", "value") == 10
        assert page.evaluate(cart_x) != before_state
        assert cart_view.screenshot() != before_cart, "the cart and pole must move with the timestep"
        page.keyboard.press("End")  # long past the untrained episode's end: its final state, and why
        page.wait_for_timeout(300)
        assert "episode ended at t =" in agent.locator(".explainers-readout").inner_text()
        assert "NaN" not in agent.locator(".explainers-readout").inner_text()
        assert visit.problems == []
    finally:
        page.context.close()


def test_steering_strength_scrubs_the_answers_and_switches_method(browser, site_url):
    visit = open_page(browser, f"{site_url}/book/steering.html")
    page, chart = visit.page, visit.page.locator("#chart-steering-strength")
    try:
        chart.scroll_into_view_if_needed()
        readout = chart.locator(".explainers-readout")
        assert model_value(page, "steering-strength-slider", "value") == 0
        unsteered = model_value(page, "steering-strength-answers", "text")
        assert "strength 0:" in unsteered and "Reproduce:" in unsteered
        chart.focus()
        page.keyboard.press("End")
        page.wait_for_timeout(200)
        strongest = model_value(page, "steering-strength-answers", "text")
        top = f"{max(SteeringConfig().strengths):g}"
        assert strongest != unsteered and f"strength {top}:" in strongest
        assert f"{top}× largest activation" in readout.inner_text()
        picture = chart.screenshot()
        chart.get_by_role("button", name="mean-difference direction").click()
        page.wait_for_timeout(300)
        assert model_value(page, "steering-strength-method", "active") == 1
        direction = model_value(page, "steering-strength-answers", "text")
        assert direction != strongest and direction.startswith("<div class='answers'><div class='say'>mean-difference")
        assert chart.screenshot() != picture, "the current-setting marker must move to the other method's curve"
        assert page.evaluate("location.hash").startswith("#steering-strength.concept=golden_gate&method=direction")
        assert visit.problems == []
    finally:
        page.context.close()
