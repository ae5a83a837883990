"""Standalone, offline copies of the book's charts for slides: one HTML file (and a PNG) per chart.

``export`` builds everything in a temporary folder first and writes into the reader's folder only once
the chart and its picture exist: a failure leaves nothing behind, and its error names the chart.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .cache import atomic_path
from .charts import build
from .embed import standalone_html

CHROMIUM_ENV = "EXPLAINERS_CHROMIUM"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str | None:
    """A Chromium to take pictures with: ``$EXPLAINERS_CHROMIUM``, else the first one on PATH."""
    if os.environ.get(CHROMIUM_ENV):
        return os.environ[CHROMIUM_ENV]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None


def write_html(chart_id: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{chart_id}.html"
    page = standalone_html(build(chart_id))
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def write_pngs(html_files: list[Path], width: int = 1100, pages: int = 2) -> list[Path]:
    """Screenshot each standalone file at its last frame (the finished run), in one browser with
    ``pages`` tabs at work: much of a picture's time is spent waiting for its page to paint, and two
    cores share the rest. The browser runs in a thread of its own, where no event loop is running."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    browser_path = chromium()
    if browser_path is None:
        raise RuntimeError(f"no Chromium found for the PNG copies; install one or set {CHROMIUM_ENV}")
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, _pictures(list(html_files), browser_path, width, pages)).result()


async def _pictures(html_files: list[Path], browser_path: str, width: int, pages: int) -> list[Path]:
    import asyncio

    from playwright.async_api import async_playwright

    todo = list(html_files)

    async def tab(browser):
        page = await browser.new_page(viewport={"width": width, "height": 800}, device_scale_factor=2)
        while todo:
            await _picture(page, todo.pop(0))
        await page.close()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*(tab(browser) for _ in range(max(1, min(pages, len(todo))))))
        finally:
            await browser.close()
    return [html_file.with_suffix(".png") for html_file in html_files]


async def _picture(page, html_file: Path) -> None:
    chart_id = html_file.stem
    await page.goto(html_file.resolve().as_uri() + f"#{chart_id}.step=999999999")
    await page.wait_for_function("() => window.ExplainersPlayer !== undefined || document.readyState === 'complete'")
    await page.wait_for_timeout(400)  # one more paint after the last frame's data arrived
    png = html_file.with_suffix(".png")
    with atomic_path(png) as tmp:
        await page.locator(f"#chart-{chart_id}").screenshot(path=str(tmp), type="png")
    write_preview(png)


PREVIEW_WIDTH = 720  # px: the slides page's picture of a chart; the full PNG is a click away


def preview_path(png: Path) -> Path:
    return png.with_name(png.stem + ".preview.png")


def write_preview(png: Path) -> Path:
    """A light copy of ``png`` for the slides page: 720 px wide, 128 colours (a few tens of KB instead of
    a few hundred), so the page stays light however many charts it lists."""
    from PIL import Image

    with Image.open(png) as picture:
        height = round(picture.height * PREVIEW_WIDTH / picture.width)
        small = picture.convert("RGB").resize((PREVIEW_WIDTH, height), Image.LANCZOS).quantize(128)
    target = preview_path(png)
    with atomic_path(target) as tmp:
        small.save(tmp, format="PNG", optimize=True)
    return target


class ExportError(RuntimeError):
    """A chart could not be exported; the message names the chart and the cause."""


def export(chart_id: str, folder: Path, png: bool = True) -> list[Path]:
    folder = Path(folder)
    with tempfile.TemporaryDirectory(prefix=f"explainers-{chart_id}-") as scratch:
        try:
            made = [write_html(chart_id, Path(scratch))]
            if png:
                made += write_pngs(made)
                made += [preview_path(path) for path in made if path.suffix == ".png"]
        except Exception as error:
            cause = str(error).strip() or "no message"
            raise ExportError(f"chart {chart_id!r} could not be exported: {type(error).__name__}: {cause}") from error
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for path in made:
            with atomic_path(folder / path.name) as tmp:
                tmp.write_bytes(path.read_bytes())
            written.append(folder / path.name)
    return written
