"""Every page on the screens the book is read on: a 1280 px laptop and a 390×844 touch phone, light and
dark. Each chart must fit its column, keep its labels inside its canvas, its sliders wide enough to
drag, and its controls in the page's theme; keyboard readers must see where focus is and reach a chart
quickly; a permalink must bring its chart into view."""
import json

import pytest

from browser import SCREENS, SITE, model_value, open_page, screen_report
from test_book_browser import toc_pages

MIN_SLIDER_PX = 150  # wide enough to scrub by touch, not only to tap the handle
MIN_TARGET_PX = 24  # WCAG 2.2's minimum target size, for the slider's handle on a touch screen


def chart_pages() -> list[str]:
    return [p for p in toc_pages() if 'class="explainers-chart"' in (SITE / p).read_text()] if SITE.exists() else []


def faults(report: dict, screen: str) -> dict[str, list]:
    """The report's faults by kind, each named by its chart."""
    found = {"clipped labels": [], "light controls": [], "overflowing charts": [], "narrow sliders": [],
             "overlapping labels": [], "legend entries without swatch": []}
    if report["pageOverflow"] > 1:
        found["overflowing charts"].append(f"the page scrolls sideways by {report['pageOverflow']} px")
    for chart in report["charts"]:
        name = chart["id"]
        found["clipped labels"] += [f"{name}: {t!r}" for t in chart["clippedText"] + chart["cutControls"]]
        found["overlapping labels"] += [f"{name}: {t!r}" for t in chart["overlappingText"]]
        found["legend entries without swatch"] += [f"{name}: {t!r}" for t in chart["emptyLegendEntries"]]
        if "dark" in screen:
            found["light controls"] += [f"{name}: {t!r}" for t in chart["lightControls"]]
        if chart["tooWide"]:
            found["overflowing charts"].append(f"{name}: {chart['width']} px in a {chart['box']} px column")
        if "390" in screen:
            found["narrow sliders"] += [f"{name}: {w} px" for w in chart["sliders"] if w < MIN_SLIDER_PX]
    return found


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_page_reads_cleanly_on_the_screen(browser, site_url, screen):
    """The crawl: every page of the book, counted fault by fault (the counts are printed and kept beside
    the build, in screens-<screen>.json)."""
    totals = {"console errors": []}
    for path in toc_pages():
        visit = open_page(browser, f"{site_url}/{path}", **SCREENS[screen])
        try:
            visit.page.wait_for_timeout(300)  # let late layout passes repaint the canvases
            totals["console errors"] += [f"{path}: {p}" for p in visit.problems]
            for kind, items in faults(screen_report(visit.page), screen).items():
                totals.setdefault(kind, []).extend(f"{path}: {item}" for item in items)
        finally:
            visit.page.context.close()
    counts = {kind: len(items) for kind, items in totals.items()}
    print(f"\n{screen}: {counts}")
    (SITE.parent / f"screens-{screen.replace(' ', '-')}.json").write_text(json.dumps(totals, indent=1))
    assert {kind: items for kind, items in totals.items() if items} == {}


@pytest.mark.parametrize("width", [360, 390, 600])
@pytest.mark.parametrize("path", chart_pages())
def test_charts_fit_narrow_screens_with_sliders_wide_enough_to_drag(browser, site_url, path, width):
    visit = open_page(browser, f"{site_url}/{path}", viewport=(width, 800), touch=True)
    try:
        report = screen_report(visit.page)
        assert report["pageOverflow"] <= 1
        for chart in report["charts"]:
            assert not chart["tooWide"], f"{chart['id']} is {chart['width']} px in a {chart['box']} px column"
            assert all(w >= MIN_SLIDER_PX for w in chart["sliders"]), f"{chart['id']} sliders: {chart['sliders']}"
            assert chart["cutControls"] == [], f"{chart['id']} cuts off its buttons' labels"
        handles = visit.page.evaluate("""() => {
            const all = (root) => [...root.querySelectorAll('*')].flatMap(e => [e, ...(e.shadowRoot ? all(e.shadowRoot) : [])]);
            return all(document).filter(e => e.matches('.noUi-handle')).map(e => {
                const r = e.getBoundingClientRect(); return Math.min(r.width, r.height); });
        }""")
        assert all(size >= MIN_TARGET_PX for size in handles), f"slider handles too small to touch: {handles}"
    finally:
        visit.page.context.close()


def test_unmixer_pictures_follow_the_dark_theme(browser, site_url):
    """The drawing and its rebuild are ink on paper: dark paper in the dark theme, as the draw widget."""
    visit = open_page(browser, f"{site_url}/book/unmixer.html", viewport=(1280, 800), color_scheme="dark")
    page = visit.page
    try:
        pictures = page.locator("#chart-dictionary-grid .bk-Figure").nth(1)
        pictures.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
        from io import BytesIO

        from PIL import Image, ImageStat

        grey = Image.open(BytesIO(pictures.screenshot())).convert("L")
        assert ImageStat.Stat(grey).mean[0] < 100, "the drawing's paper stays white in the dark theme"
        page.evaluate("document.documentElement.dataset.theme = 'light'")
        page.wait_for_timeout(300)
        grey = Image.open(BytesIO(pictures.screenshot())).convert("L")
        assert ImageStat.Stat(grey).mean[0] > 150, "the drawing's paper must be white in the light theme"
    finally:
        page.context.close()


def test_keyboard_focus_ring_is_drawn_whole(browser, site_url):
    """No wrapper may clip the focused chart's outline: its whole box lies inside every clipping ancestor."""
    visit = open_page(browser, f"{site_url}/book/one-neuron.html", viewport=(1280, 800))
    page = visit.page
    try:
        page.locator("#chart-one-neuron").focus()
        clipped = page.evaluate("""() => {
            const figure = document.activeElement, style = getComputedStyle(figure);
            const width = parseFloat(style.outlineWidth), offset = parseFloat(style.outlineOffset);
            if (style.outlineStyle === 'none' || !(width > 0)) return ['no outline'];
            const grow = Math.max(0, width + offset), r = figure.getBoundingClientRect();
            const ring = [r.left - grow, r.top - grow, r.right + grow, r.bottom + grow];
            const out = [];
            for (let el = figure.parentElement; el; el = el.parentElement) {
                const s = getComputedStyle(el);
                if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
                const b = el.getBoundingClientRect();
                if (ring[0] < b.left || ring[2] > b.right) out.push(el.className + ': ' + JSON.stringify([ring, [b.left, b.right]]));
            }
            return out;
        }""")
        assert clipped == []
    finally:
        page.context.close()


def test_skip_link_takes_the_keyboard_to_the_first_chart(browser, site_url):
    visit = open_page(browser, f"{site_url}/book/one-neuron.html", viewport=(1280, 800))
    page = visit.page
    try:
        for presses in range(1, 4):
            page.keyboard.press("Tab")
            if "chart" in page.evaluate("document.activeElement.textContent.toLowerCase()"):
                break
        else:
            pytest.fail("no link to the chart among the first 3 Tab stops")
        page.keyboard.press("Enter")
        page.wait_for_timeout(200)
        assert page.evaluate("document.activeElement.id") == "chart-one-neuron"
        page.keyboard.press("ArrowRight")  # the chart now takes the player's keys
        page.wait_for_timeout(200)
        assert model_value(page, "one-neuron-slider", "value") == 1
        assert visit.problems == []
    finally:
        page.context.close()


@pytest.mark.parametrize("how", ["in-page link", "address"])
def test_permalink_on_the_page_showing_it_scrolls_to_the_chart(browser, site_url, how):
    visit = open_page(browser, f"{site_url}/book/one-neuron.html", viewport=(1280, 800))
    page = visit.page
    try:
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(100)
        target = "#one-neuron.lr=0.3&step=40"
        if how == "in-page link":
            page.evaluate("""(target) => { const a = document.createElement('a'); a.href = target;
                a.textContent = 'link'; document.querySelector('article').append(a); a.click(); }""", target)
        else:
            page.evaluate("(target) => { location.hash = target; }", target)
        page.wait_for_timeout(600)
        assert model_value(page, "one-neuron-slider", "value") == 40
        box = page.locator("#chart-one-neuron").bounding_box()
        assert box["y"] < 800 and box["y"] + box["height"] > 0, f"the chart is out of view: {box}"
        assert visit.problems == []
    finally:
        page.context.close()


LEGEND_ENTRY = """([chart, label]) => {
    const holder = document.querySelector(`#chart-${chart} [data-root-id]`);
    const doc = Bokeh.documents.find((d) => d.roots()[0].id === holder.dataset.rootId);
    const item = [...doc.all_models].filter((m) => m.type === "LegendItem")
        .find((i) => i.label && i.label.value === label);
    // a steady legend swatch (explainers.figure.steady_legends) always has its one row: what matters is
    // whether the entry is shown while its series is empty
    return { shown: item.visible };
}"""


@pytest.mark.parametrize("path, chart, label", [("book/one-neuron.html", "one-neuron", "descent path"),
                                                ("book/superposition.html", "pentagon-sae", "dead latent")])
def test_legend_lists_no_entry_that_cannot_draw_its_swatch(browser, site_url, path, chart, label):
    """An entry whose series is empty (the path at step 0, no dead latent yet) would show no swatch:
    it stays out of the legend until its series has data."""
    visit = open_page(browser, f"{site_url}/{path}", viewport=(1280, 800))
    page = visit.page
    try:
        empty = [t for c in screen_report(page)["charts"] for t in c["emptyLegendEntries"]]
        assert empty == []
        assert page.evaluate(LEGEND_ENTRY, [chart, label]) == {"shown": False}
        if chart == "one-neuron":  # one step on, the path has a first segment and its entry joins
            page.locator("#chart-one-neuron").focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(200)
            assert page.evaluate(LEGEND_ENTRY, [chart, label]) == {"shown": True}
        assert visit.problems == []
    finally:
        page.context.close()


@pytest.mark.parametrize("page_name", [p for p in toc_pages() if "cell_output" in (SITE / p).read_text()]
                         if SITE.exists() else [])
def test_html_outputs_sit_on_the_dark_page_not_in_a_light_panel(browser, site_url, page_name):
    """The theme boxes notebook HTML in a light panel in dark mode; the book's outputs follow the page, so
    their headings, code and links, drawn in the dark theme's light ink, stay readable."""
    visit = open_page(browser, f"{site_url}/{page_name}", viewport=(1280, 800), color_scheme="dark")
    try:
        panels = visit.page.evaluate("[...document.querySelectorAll('.bd-content div.cell_output .text_html')]"
                                     ".map(o => getComputedStyle(o).backgroundColor)")
        assert [c for c in panels if c not in ("rgba(0, 0, 0, 0)", "transparent")] == [], page_name
    finally:
        visit.page.context.close()
