"""Reading the built book as a reader would: a local static server and headless Chromium.

Shared by the browser tests and the benchmarks. Every page visit records console errors, uncaught
exceptions, failed requests and any request to a host other than the local server.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# the built book; EXPLAINERS_SITE points the browser tests at another build of it
SITE = Path(os.environ.get("EXPLAINERS_SITE") or ROOT / "_build" / "html")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser closed the page before the file was sent


@contextlib.contextmanager
def serve(folder: Path = SITE):
    """A plain static file server for ``folder`` on 127.0.0.1 (a free port); yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    from explainers.export import chromium as find_chromium

    path = find_chromium()
    if path is None:
        raise RuntimeError("Chromium is needed for the browser tests: `make test` installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    page: object
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    foreign_requests: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)
    bytes_received: int = 0

    @property
    def problems(self) -> list[str]:
        return ([f"console error: {m}" for m in self.console_errors]
                + [f"uncaught exception: {e}" for e in self.page_errors]
                + [f"request to another host: {u}" for u in self.foreign_requests]
                + [f"failed request: {u}" for u in self.failed_requests])


# The screens the book is read on: a laptop and a phone, each in the light and the dark theme.
SCREENS = {
    "1280 light": dict(viewport=(1280, 800), color_scheme="light"),
    "1280 dark": dict(viewport=(1280, 800), color_scheme="dark"),
    "390 light": dict(viewport=(390, 844), color_scheme="light", touch=True),
    "390 dark": dict(viewport=(390, 844), color_scheme="dark", touch=True),
}


def open_page(browser, url: str, *, viewport=(1200, 900), color_scheme="light", touch=False) -> Visit:
    """Open ``url`` in a fresh context, watching everything the page asks for and complains about.

    ``touch``: a phone's touch screen (touch events, a coarse pointer, the page's mobile viewport).
    Text drawn on canvases is recorded (canvas_text.js) for ``screen_report``."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  color_scheme=color_scheme, has_touch=touch, is_mobile=touch)
    context.add_init_script(path=str(HERE / "canvas_text.js"))
    page = context.new_page()
    visit = Visit(page)
    host = urlparse(url).netloc

    def on_request(request):
        parsed = urlparse(request.url)
        if parsed.scheme in ("data", "blob", "about"):
            return
        if parsed.netloc != host:
            visit.foreign_requests.append(request.url)

    def on_response(response):
        if response.status >= 400:
            visit.failed_requests.append(f"{response.status} {response.url}")
        with contextlib.suppress(Exception):
            visit.bytes_received += int(response.headers.get("content-length", 0))

    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
    page.on("request", on_request)
    def on_failed(request):
        # a navigation (index.html's redirect to the first chapter) cancels requests still in flight
        if "ERR_ABORTED" not in (request.failure or ""):
            visit.failed_requests.append(f"{request.failure} {request.url}")

    page.on("requestfailed", on_failed)
    page.on("response", on_response)  # a 404 for any file, favicon.ico included, is a broken page
    page.goto(url, wait_until="load")
    page.wait_for_load_state("load")  # after a redirect, the page it led to
    page.wait_for_function("() => !window.Bokeh || Bokeh.documents.length >= document.querySelectorAll('figure.explainers-chart').length")
    page.wait_for_timeout(300)  # CustomJS runs asynchronously; let the first frame paint
    return visit


def distinct_colours(png: bytes) -> int:
    """How many colours a screenshot holds: a blank chart has a handful, a drawn one hundreds."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 20) or [])


def model_value(page, name: str, attribute: str):
    """Read a Bokeh model's attribute, finding the model by its unique name in any document."""
    return page.evaluate(
        """([name, attribute]) => {
            for (const doc of Bokeh.documents) {
                const model = doc.get_model_by_name(name);
                if (model) return model[attribute];
            }
            return undefined;
        }""",
        [name, attribute],
    )


def pages(site: Path = SITE) -> list[str]:
    """Every HTML page of the built book (its chapters and Sphinx's own pages), as URL paths."""
    found = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if "_static" not in p.parts and "charts" not in p.parts and "_sources" not in p.parts)
    return found


def screen_report(page) -> dict:
    """What a reader would find wrong with each chart on the page (screen_checks.js): its width against
    its column, its sliders' widths, controls with a light background or a cut-off label, text that its
    canvas or plot frame cuts off, text printed over other text, legend entries with no swatch."""
    return page.evaluate((HERE / "screen_checks.js").read_text())
