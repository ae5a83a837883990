"""Figures for the book as a whole: build time cold and warm, page weight, embedded bytes, scrub latency.

    .venv/bin/python benchmarks/book.py [--skip-cold]

Cold: a fresh output folder and an empty training cache. Warm: the same build again, nothing changed.
Scrub latency: slider change to the next painted frame, in headless Chromium, median and p95.
"""
from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium, open_page, serve  # noqa: E402


def build(out: Path, cache: Path) -> float:
    env = dict(os.environ, EXPLAINERS_CACHE=str(cache))
    started = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/jupyter-book"), "build", str(ROOT), "--path-output", str(out)],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def page_weight(browser, url: str) -> tuple[int, int]:
    """Bytes of every response on first load of ``url``, raw and gzipped."""
    sizes = []
    context = browser.new_context()
    page = context.new_page()
    page.on("response", lambda r: sizes.append(r))
    page.goto(url, wait_until="networkidle")
    raw = zipped = 0
    for response in sizes:
        try:
            body = response.body()
        except Exception:
            continue
        raw += len(body)
        zipped += len(gzip.compress(body, 6))
    context.close()
    return raw, zipped


def embedded_bytes() -> dict[str, int]:
    from bokeh.embed import components

    from explainers.charts import REGISTRY, build as build_chart
    from explainers.embed import document

    return {cid: len(components(document(build_chart(cid)).roots[0])[0].encode()) for cid in REGISTRY}


# Slider change to the end of the last canvas repaint it caused: every plot view's paint is wrapped to
# note when it finished. Changes are spaced 120 ms apart so each starts from an idle page.
SCRUB = """async ([name, frames]) => {
  const views = [];
  const walk = (v) => { views.push(v); for (const c of (v.child_views || [])) walk(c); };
  for (const r of Bokeh.index.roots) walk(r);
  let lastPaint = 0;
  for (const view of views.filter((v) => typeof v._actual_paint === "function")) {
    const paint = view._actual_paint.bind(view);
    view._actual_paint = (...args) => { const result = paint(...args); lastPaint = performance.now(); return result; };
  }
  const slider = Bokeh.documents.map((d) => d.get_model_by_name(name)).find(Boolean);
  const times = [];
  const stride = (slider.end + 1) % 7 === 0 ? 3 : 7;  // a stride that visits every frame, never standing still
  for (let i = 0; i < frames; i++) {
    await new Promise((r) => setTimeout(r, 120));
    lastPaint = 0;
    const t0 = performance.now();
    slider.value = (slider.value + stride) % (slider.end + 1);
    await new Promise((r) => setTimeout(r, 100));
    if (lastPaint > t0) times.push(lastPaint - t0);
  }
  return times;
}"""


# The animated charts to scrub: (chart id, page, with any permalink that sets up a telling state).
SCRUBBED = (
    ("one-neuron", "book/one-neuron.html"),
    ("cartpole-rewards", "book/learning-from-reward.html"),
    ("cartpole-agent", "book/learning-from-reward.html#cartpole-agent.checkpoint=solved&step=0"),  # 500 moving steps
    ("steering-strength", "book/steering.html"),  # swaps a panel of eight answers
)


def scrub_latency(browser, url: str, slider_name: str, n: int = 60) -> tuple[float, float]:
    visit = open_page(browser, url)
    times = sorted(visit.page.evaluate(SCRUB, [slider_name, n]))
    visit.page.context.close()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-cold", action="store_true", help="measure against the existing _build/html")
    args = parser.parse_args()
    site = ROOT / "_build" / "html"
    if not args.skip_cold:
        work = Path(tempfile.mkdtemp(prefix="book-bench-"))
        try:
            cold = build(work / "out", work / "cache")
            warm = build(work / "out", work / "cache")
            print(f"cold build (empty caches): {cold:6.1f} s")
            print(f"warm rebuild (no change):  {warm:6.1f} s")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for chart_id, size in embedded_bytes().items():
        print(f"embedded data, {chart_id}: {size / 1024:7.1f} KB")
    with serve(site) as base, chromium() as browser:
        for path in dict.fromkeys(page.split("#")[0] for _, page in SCRUBBED):
            raw, zipped = page_weight(browser, f"{base}/{path}")
            print(f"first load of {path}: {raw / 1e6:.2f} MB, {zipped / 1e6:.2f} MB gzipped")
        for chart_id, page in SCRUBBED:
            median, p95 = scrub_latency(browser, f"{base}/{page}", f"{chart_id}-slider")
            print(f"scrub latency {chart_id} (slider change to painted frame): median {median:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
