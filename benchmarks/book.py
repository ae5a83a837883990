"""Figures for the book as a whole: build time cold and warm, page weight, embedded bytes, scrub latency.

    .venv/bin/python benchmarks/book.py [--skip-cold] [--skip-embedded] [--skip-weight] [--fresh-clone]

Cold: a fresh output folder and an empty training cache. Warm: the same build again, nothing changed.
Each build is broken down: every notebook's execution, the slide copies, the feature browser's data, and
the rest of Sphinx. --fresh-clone measures what a new user's `make book` costs instead: a clone of this
commit beside ../shared, its installs (`make setup`) timed, then its cold build and a warm rebuild.
Page weight: every response body of a page's first load in headless Chromium (1200 x 900, images below
the fold not scrolled into view), gzipped at level 6, against the page's goal.
Scrub latency: slider change to the last canvas repaint it caused, for every chart with a slider, at the
book's column width, median (p50) and p95. The scrub runs three times over every chart (a goal met on one
lucky run is not met); each chart's verdict is its worst p50 against half a 60 Hz frame and its worst p95
against one frame, with the load average before each run.
"""
from __future__ import annotations

import argparse
import gzip
import re
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

from browser import chromium, open_page, pages, serve  # noqa: E402

MB = 1_000_000
CHART_PAGE_GOAL, TEXT_PAGE_GOAL, SLIDES_PAGE_GOAL = 0.8 * MB, 0.3 * MB, 1.0 * MB
FRAME_MS = 1000 / 60
SCRUB_RUNS = 3


NOTEBOOK_TIME = re.compile(r"book/([\w-]+)\.md: Executed notebook in ([\d.]+) seconds")
# The notebooks that run or read the language-model pipeline (whichever comes first computes it), and the
# time both language-model chapters may take cold on two cores (the steering and real-model issues)
LM_NOTEBOOKS = ("feature-browser", "real-model", "steering")
LM_GOAL_S = 420
MAKE_BOOK_GOAL_S = 600  # a fresh clone's `make book` on two cores, installs included
STEP_TIME = re.compile(r"\[explainers\] (slide copies|feature browser data) in ([\d.]+) seconds")


def build(out: Path | None, cache: Path, root: Path = ROOT) -> tuple[float, dict[str, float]]:
    """One strict build of the book at ``root``, as `make book` runs it (into ``out`` if given): its wall
    time and its parts."""
    env = dict(os.environ, EXPLAINERS_CACHE=str(cache))
    if out is None:
        command = ["make", "-C", str(root), "book"]
    else:
        command = ["make", "-C", str(root), "book", f"BUILD_ARGS=--path-output {out}"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"the build failed:\n{done.stdout[-3000:]}")
    parts = {f"notebook {name}": float(t) for name, t in NOTEBOOK_TIME.findall(done.stdout)}
    parts |= {name: float(t) for name, t in STEP_TIME.findall(done.stdout)}
    parts["Sphinx, the rest"] = wall - sum(parts.values())
    return wall, parts


def show_build(name: str, wall: float, parts: dict[str, float]) -> None:
    print(f"{name}: {wall:6.1f} s")
    for part, seconds in sorted(parts.items(), key=lambda p: -p[1]):
        print(f"    {part:34s} {seconds:6.1f} s")


def fresh_clone(keep: bool = False) -> None:
    """A new user's `make book`: clone this commit beside ../shared, install, build cold, build again.
    ``keep``: leave the clone (to run its tests next, as CI would)."""
    work = Path(tempfile.mkdtemp(prefix="book-clone-"))
    work.chmod(0o755)  # readable by other users, as a checkout is (the install tests run make as one)
    print(f"clone of {subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()} in {work / 'main'}")
    try:
        clone = work / "main"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        if (ROOT.parent / "shared").exists():
            (work / "shared").symlink_to(ROOT.parent / "shared")
        print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
        started = time.perf_counter()
        subprocess.run(["make", "-C", str(clone), "setup"], check=True, stdout=subprocess.DEVNULL)
        installs = time.perf_counter() - started
        cache = clone / "_build" / "explainers-cache"
        cold, parts = build(None, cache, clone)
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"fresh clone, `make book`: {installs + cold:6.1f} s (goal {MAKE_BOOK_GOAL_S} s)")
        print(f"    {'installs (make setup)':34s} {installs:6.1f} s")
        show_build("  cold build", cold, parts)
        lm = sum(parts.get(f"notebook {name}", 0.0) for name in LM_NOTEBOOKS)
        print(f"  language-model notebooks ({', '.join(LM_NOTEBOOKS)}): {lm:6.1f} s (goal {LM_GOAL_S} s)")
        show_build("warm rebuild (no change)", *build(None, cache, clone))
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def page_weight(browser, url: str) -> tuple[int, int, list[tuple[str, int]]]:
    """Bytes of every response on first load of ``url``: raw, gzipped, and gzipped per response."""
    responses = []
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.on("response", lambda r: responses.append(r))
    page.goto(url, wait_until="networkidle")
    raw = zipped = 0
    parts = []
    for response in responses:
        try:
            body = response.body()
        except Exception:
            continue
        raw += len(body)
        size = len(gzip.compress(body, 6))
        zipped += size
        parts.append((response.url.rsplit("/", 1)[-1].split("?")[0], size))
    context.close()
    return raw, zipped, sorted(parts, key=lambda p: -p[1])


def page_goal(path: str, html: str) -> tuple[str, float]:
    if path.endswith("charts-for-slides.html"):
        return "slides", SLIDES_PAGE_GOAL
    if 'class="explainers-chart"' in html:
        return "charts", CHART_PAGE_GOAL
    return "text", TEXT_PAGE_GOAL


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


# Permalinks that set up a telling state for a chart's scrub (its other charts open as a reader finds them).
SETUP = {"cartpole-agent": "#cartpole-agent.checkpoint=solved&step=0"}  # 500 moving steps


def scrubbed_charts(site: Path) -> list[tuple[str, str]]:
    """(chart id, page with any permalink) for every chart of the book whose player has a slider."""
    found = []
    for path in pages(site):
        html = (site / path).read_text(errors="replace")
        for chart_id in re.findall(r'<figure class="explainers-chart" id="chart-([a-z0-9-]+)"', html):
            if f'"{chart_id}-slider"' in html:
                found.append((chart_id, path + SETUP.get(chart_id, "")))
    return found


def scrub_latency(browser, url: str, slider_name: str, n: int = 60) -> tuple[float, float]:
    visit = open_page(browser, url)
    times = sorted(visit.page.evaluate(SCRUB, [slider_name, n]))
    visit.page.context.close()
    if not times:
        raise RuntimeError(f"{slider_name}: no repaint followed a slider change")
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def verdict(value: float, goal: float) -> str:
    return "meets" if value <= goal else "MISSES"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-cold", action="store_true", help="measure against the existing _build/html")
    parser.add_argument("--skip-embedded", action="store_true", help="skip building each chart to count its bytes")
    parser.add_argument("--skip-weight", action="store_true", help="skip the page weights (measure the scrub only)")
    parser.add_argument("--fresh-clone", action="store_true", help="a new user's make book: clone, install, build")
    parser.add_argument("--keep-clone", action="store_true", help="with --fresh-clone: leave the clone")
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html", help="the built book to measure")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each result as it comes, when piped to a file
    site = args.site
    if args.fresh_clone:
        fresh_clone(args.keep_clone)
        return
    if not args.skip_cold:
        work = Path(tempfile.mkdtemp(prefix="book-bench-"))
        try:
            show_build("cold build (empty caches)", *build(work / "out", work / "cache"))
            show_build("warm rebuild (no change)", *build(work / "out", work / "cache"))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for chart_id, size in ({} if args.skip_embedded else embedded_bytes()).items():
        print(f"embedded data, {chart_id}: {size / 1024:7.1f} KB")
    print(f"load average when measured: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with serve(site) as base, chromium() as browser:
        if not args.skip_weight:
            print("\nPage weight: first load, every response body gzipped (level 6)")
            print(f"{'page':34s} {'kind':7s} {'raw':>9s} {'gzipped':>9s} {'goal':>9s}  verdict  largest responses (gzipped KB)")
            for path in pages(site):
                kind, goal = page_goal(path, (site / path).read_text(errors="replace"))
                raw, zipped, parts = page_weight(browser, f"{base}/{path}")
                largest = ", ".join(f"{name} {size / 1e3:.0f}" for name, size in parts[:4])
                print(f"{path:34s} {kind:7s} {raw / MB:6.2f} MB {zipped / MB:6.2f} MB {goal / MB:6.2f} MB  "
                      f"{verdict(zipped, goal):7s}  {largest}")
        charts = scrubbed_charts(site)
        print(f"\nScrub latency: slider change to the last repaint, {SCRUB_RUNS} runs over every chart; goals: "
              f"p50 ≤ {FRAME_MS / 2:.1f} ms and p95 ≤ {FRAME_MS:.1f} ms in every run")
        runs: dict[str, list[tuple[float, float]]] = {chart_id: [] for chart_id, _ in charts}
        for run in range(1, SCRUB_RUNS + 1):
            print(f"run {run}: load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
            for chart_id, page in charts:
                median, p95 = scrub_latency(browser, f"{base}/{page}", f"{chart_id}-slider")
                runs[chart_id].append((median, p95))
                print(f"  {chart_id:26s} p50 {median:5.1f} ms  p95 {p95:5.1f} ms")
        print(f"{'chart':26s} {'worst p50':>10s} {'worst p95':>10s}  verdict (p50 ≤ {FRAME_MS / 2:.1f}, p95 ≤ {FRAME_MS:.1f})")
        for chart_id, results in runs.items():
            median, p95 = max(r[0] for r in results), max(r[1] for r in results)
            both = "meets" if median <= FRAME_MS / 2 and p95 <= FRAME_MS else "MISSES"
            print(f"{chart_id:26s} {median:7.1f} ms {p95:7.1f} ms  {both}")


if __name__ == "__main__":
    main()
