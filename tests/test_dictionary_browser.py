"""The "draw a shape, click Train" widget in headless Chromium: drawing, training, messages, themes."""
from __future__ import annotations

import pytest

from explainers.unmixer.widget import draw_train_html

STEPS = 150  # short runs keep the suite quick; the algorithm is the same

class Page:
    """A page holding widgets, recording console messages, page errors and network requests."""

    def __init__(self, browser, widgets, theme="light", before="", has_touch=False):
        self.context = browser.new_context(viewport={"width": 800, "height": 1000}, has_touch=has_touch)
        self.page = self.context.new_page()
        self.console, self.requests = [], []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        body = "".join(draw_train_html(dom_id, steps=STEPS, **options) for dom_id, options in widgets.items())
        self.page.set_content(f'<!doctype html><html data-theme="{theme}"><head><meta charset="utf-8">'
                              f'</head><body style="max-width: 720px">{before}{body}</body></html>')

    def js(self, expression, arg=None):
        return self.page.evaluate(expression, arg)

    def state(self, dom_id):
        return self.js("(id) => document.getElementById(id).dataset.state", dom_id)

    def wait_state(self, dom_id, state, timeout=60_000):
        self.page.wait_for_function("([id, s]) => document.getElementById(id).dataset.state === s",
                                    arg=[dom_id, state], timeout=timeout)

    def click_train(self, dom_id):
        self.page.click(f"#{dom_id} .sae-dt-primary")

    def ink_total(self, dom_id):
        return self.js("(id) => document.getElementById(id).drawTrain.getInk().reduce((a, b) => a + b, 0)",
                       dom_id)

    def canvas_point(self, dom_id, x, y):
        """Page coordinates of drawing pixel (x, y)."""
        box = self.page.locator(f"#{dom_id} .sae-dt-drawing").bounding_box()
        return box["x"] + x * box["width"] / 128, box["y"] + y * box["height"] / 128

    def mouse_stroke(self, dom_id, points):
        mouse = self.page.mouse
        mouse.move(*self.canvas_point(dom_id, *points[0]))
        mouse.down()
        for point in points[1:]:
            mouse.move(*self.canvas_point(dom_id, *point), steps=8)
        mouse.up()

    def text(self, dom_id):
        return self.page.inner_text(f"#{dom_id}")

    def problems(self):
        return [line for line in self.console if line.split(":")[0] in ("error", "warning", "pageerror")]

    def outside_requests(self):
        return [url for url in self.requests if not url.startswith(("about:", "blob:", "data:"))]

    def close(self):
        self.context.close()


@pytest.fixture
def make_page(browser):
    """Pages in headless Chromium (conftest's browser), closed after the test."""
    pages = []

    def make(widgets, **kwargs):
        pages.append(Page(browser, widgets, **kwargs))
        return pages[-1]

    yield make
    for page in pages:
        page.close()


# While a widget trains: the page's long tasks (over 50 ms, which delay input and drop frames), the
# gaps between animation frames, and when the first snapshot arrived. rAF gaps alone also count the
# machine being busy with other work; long tasks count only what ran on the page's own thread.
WATCH_PAGE = """(id) => {
    window.longTasks = []; window.frameGaps = []; window.firstSnapshot = null;
    new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.longTasks.push({start: e.startTime, duration: e.duration});
    }).observe({type: "longtask"});
    document.getElementById(id).addEventListener("drawtrain:snapshot", () => {
        if (window.firstSnapshot === null) window.firstSnapshot = performance.now();
    });
    let last = performance.now();
    const tick = (now) => { window.frameGaps.push(now - last); last = now;
                            if (window.watching) requestAnimationFrame(tick); };
    window.watching = true;
    requestAnimationFrame(tick);
}"""
STOP_WATCHING = """() => { window.watching = false;
    return {longTasks: window.longTasks, frameGaps: window.frameGaps, firstSnapshot: window.firstSnapshot}; }"""


def median(values):
    return sorted(values)[len(values) // 2]


FIRST_ATOMS = """(id) => {
    const node = document.getElementById(id);
    node.addEventListener("drawtrain:snapshot", () => {
        if (!window.firstAtoms) window.firstAtoms = Array.from(node.drawTrain.latest.atoms);
    });
}"""


def test_drawing_with_the_mouse_then_train_changes_the_atoms_without_console_errors(make_page):
    page = make_page({"w": {"drawing": None}})
    assert page.ink_total("w") == 0
    page.mouse_stroke("w", [(20, 20), (100, 20), (100, 100), (20, 100), (20, 20)])  # a square
    page.mouse_stroke("w", [(30, 90), (90, 30)])  # a diagonal
    page.mouse_stroke("w", [(40, 60), (60, 45), (80, 70)])  # a roof
    assert page.ink_total("w") > 500
    page.js(FIRST_ATOMS, "w")
    page.click_train("w")
    assert page.state("w") == "training"
    page.wait_state("w", "done")
    result = page.js("""(id) => {
        const latest = document.getElementById(id).drawTrain.latest, last = Array.from(latest.atoms);
        return {step: latest.step, change: Math.max(...last.map((v, i) => Math.abs(v - window.firstAtoms[i]))),
                finite: last.every(Number.isFinite) && Number.isFinite(latest.mse)};
    }""", "w")
    assert result["step"] == STEPS and result["finite"] and result["change"] > 0.01
    text = page.text("w")
    assert f"{STEPS} / {STEPS}" in text and "NaN" not in text and "Done" in text
    assert not page.problems(), page.console


def test_a_touch_stroke_draws_on_the_canvas(make_page):
    page = make_page({"w": {"drawing": None}}, has_touch=True)
    cdp = page.context.new_cdp_session(page.page)
    points = [page.canvas_point("w", x, 64) for x in range(20, 110, 6)]
    for kind, point in [("touchStart", points[0])] + [("touchMove", p) for p in points[1:]]:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": point[0], "y": point[1]}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    columns = page.js("""(id) => {
        const ink = document.getElementById(id).drawTrain.getInk(), cols = new Set();
        for (let i = 0; i < ink.length; i++) if (ink[i] > 0.5) cols.add(i % 128);
        return cols.size;
    }""", "w")
    assert columns > 80  # a line across the canvas, not a dot
    assert not page.problems(), page.console


@pytest.mark.parametrize("case, expected", [
    ("empty", "The canvas is empty"),
    ("filled", "completely filled"),
    ("dot", "A single dot is not enough"),
])
def test_empty_filled_or_dot_canvas_gives_a_message_and_no_nan(make_page, case, expected):
    page = make_page({"w": {"drawing": None}})
    if case == "filled":
        page.js("(id) => document.getElementById(id).drawTrain.setInk(new Float32Array(128 * 128).fill(1))", "w")
    elif case == "dot":
        page.page.mouse.click(*page.canvas_point("w", 64, 64))
        assert 0 < page.ink_total("w") < 30
    page.click_train("w")
    page.wait_state("w", "message")
    text = page.text("w")
    assert expected in text and "NaN" not in text
    readouts = page.page.locator("#w [data-readout]").all_inner_texts()
    assert readouts == ["–"] * 4
    assert page.page.inner_text("#w .sae-dt-primary") == "Train"
    assert not page.problems(), page.console


def watch_training(make_page, drawing, before=""):
    """Train once while watching the page; returns (mode, what was watched, the page)."""
    page = make_page({"w": {"drawing": drawing}}, before=before)
    page.js(WATCH_PAGE, "w")
    page.click_train("w")
    mode = page.js("() => document.getElementById('w').drawTrain.running.mode")
    page.wait_state("w", "done")
    return mode, page.js(STOP_WATCHING), page


# This 2-core machine is shared: another job can pause the browser for 100 ms or more, which the
# page sees as a long task. A page that training blocks is blocked every time, so each check below
# passes if one of three tries is clean.
TRIES = 3


def test_training_in_a_worker_never_blocks_the_page(make_page):
    for _ in range(TRIES):
        mode, watched, page = watch_training(make_page, "house")
        assert mode == "worker"
        assert "NaN" not in page.text("w") and not page.problems(), page.console
        if not watched["longTasks"] and median(watched["frameGaps"]) < 20:
            break
    else:
        pytest.fail(f"the page was blocked while training: {watched}")


def test_without_web_workers_training_runs_in_slices_that_never_block_the_page(make_page):
    # Cutting the patches with not-yet-optimised code may take one long task before the first
    # snapshot; training and measuring after it are sliced.
    for _ in range(TRIES):
        mode, watched, page = watch_training(make_page, "star",
                                             before="<script>window.Worker = undefined;</script>")
        assert mode == "page"
        assert "NaN" not in page.text("w") and not page.problems(), page.console
        late = [task for task in watched["longTasks"] if task["start"] >= watched["firstSnapshot"]]
        if not late and median(watched["frameGaps"]) < 20:
            break
    else:
        pytest.fail(f"the page was blocked while training: {watched}")


def test_a_worker_that_cannot_start_falls_back_to_the_pages_thread(make_page):
    refuse = """<script>window.Worker = class {  // as under a policy that refuses blob: scripts
        constructor() { setTimeout(() => this.onerror({preventDefault() {}, message: "refused"}), 0); }
        postMessage() {} terminate() {}
    };</script>"""
    page = make_page({"w": {"drawing": "house"}}, before=refuse)
    page.click_train("w")
    page.wait_state("w", "done")
    assert page.js("() => document.getElementById('w').drawTrain.latest.step") == STEPS
    assert "NaN" not in page.text("w") and not page.problems(), page.console


def test_two_widgets_on_one_page_train_independently(make_page):
    page = make_page({"a": {"drawing": "house"}, "b": {"drawing": "star", "sparsity": 0.03}})
    page.click_train("a")
    page.click_train("b")
    page.wait_state("a", "done")
    page.wait_state("b", "done")
    atoms = page.js("() => ['a', 'b'].map((id) => Array.from(document.getElementById(id).drawTrain.latest.atoms))")
    assert max(abs(x - y) for x, y in zip(*atoms)) > 0.01
    assert page.js("() => typeof DictionaryTrainer.run") == "function"
    assert not page.problems(), page.console


def test_clear_stops_training_and_empties_everything(make_page):
    page = make_page({"w": {"drawing": "strokes"}})
    page.click_train("w")
    page.page.locator("#w .sae-dt-button", has_text="Clear").click()
    assert page.state("w") == "idle" and page.ink_total("w") == 0
    page.page.wait_for_timeout(300)  # a late snapshot from the stopped run must not come back
    assert page.page.locator("#w [data-readout]").all_inner_texts() == ["–"] * 4
    assert not page.problems(), page.console


def test_nothing_leaves_the_page(make_page):
    page = make_page({"w": {"drawing": "house"}})
    page.click_train("w")
    page.wait_state("w", "done")
    assert page.outside_requests() == []


LUMINANCE = """([selector, property]) => {
    const parse = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92
                                 : Math.pow((v + 0.055) / 1.055, 2.4); })
                             .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
    const node = document.querySelector(selector), style = getComputedStyle(node);
    let back = node, bg = getComputedStyle(back).backgroundColor;
    while (bg === "rgba(0, 0, 0, 0)" && back.parentElement) {
        back = back.parentElement; bg = getComputedStyle(back).backgroundColor;
    }
    const [a, b] = [lum(parse(style.color)), lum(parse(bg))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_colours_follow_the_theme_and_text_stays_readable(make_page, theme):
    page = make_page({"w": {"drawing": "house"}}, theme=theme)
    for selector in ("#w .sae-dt-message", "#w figcaption", "#w .sae-dt-primary", "#w dt", "#w dd",
                     "#w .sae-dt-button"):
        assert page.js(LUMINANCE, [selector, "color"]) >= 4.5, selector
    # read a copy, so the test's own readbacks do not make Chrome warn about the widget's canvas
    paper = """() => { const copy = document.createElement('canvas');
        const c = copy.getContext('2d', {willReadFrequently: true});
        c.drawImage(document.querySelector('#w .sae-dt-drawing'), 0, 0);
        return Array.from(c.getImageData(2, 2, 1, 1).data); }"""
    light_paper = page.js(paper)[0] > 128
    assert light_paper == (theme == "light")
    other = "dark" if theme == "light" else "light"
    page.js(f"() => document.documentElement.setAttribute('data-theme', '{other}')")
    page.page.wait_for_timeout(50)
    assert (page.js(paper)[0] > 128) == (other == "light")
    page.click_train("w")
    page.page.locator("#w .sae-dt-button", has_text="Clear").click()
    page.click_train("w")  # an empty canvas: the warning must be readable too
    page.wait_state("w", "message")
    assert page.js(LUMINANCE, ["#w .sae-dt-message", "color"]) >= 4.5
    assert not page.problems(), page.console
