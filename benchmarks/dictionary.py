"""The drawing dictionary's two engines, timed: torch at build time, JavaScript in the reader's browser.

    .venv/bin/python benchmarks/dictionary.py [repeats]

Prints, for the book's default config on the built-in house:
  - torch on the CPU: training steps per second (one thread, as train_dictionary runs);
  - JS in headless Chromium: steps per second on the page's thread, and in the widget (a Web Worker):
    seconds from the Train click to steps 100 and 200 and to the end, with the page's long tasks
    and animation-frame gaps meanwhile; and how edge-like the atoms are at those steps (torch's twin
    run: both engines compute the same numbers);
  - the precomputed runs: build time of every drawing × sparsity run, and their bytes on disk.
Timings are best of `repeats`; the load average is printed since other jobs share the machine.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the shared headless-Chromium helper

from browser import chromium  # noqa: E402

from explainers.device import describe  # noqa: E402
from explainers.unmixer import train as sae  # noqa: E402
from explainers.unmixer.drawings import DRAWINGS, drawing  # noqa: E402
from explainers.unmixer.widget import draw_train_html  # noqa: E402

JS = Path(sae.__file__).with_name("dictionary.js")
CONFIG = sae.DictionaryConfig()  # the book's defaults: house, λ = 0.1, 500 steps


def torch_steps_per_second(repeats: int) -> tuple[float, sae.Timeline]:
    runs = [sae.train_on_drawing(drawing(CONFIG.drawing), CONFIG, device="cpu") for _ in range(repeats)]
    best = max(runs, key=lambda run: run.meta["steps_per_s"])
    return best.meta["steps_per_s"], best


JS_RAW = """([ink, options, steps]) => {
    const trainer = new DictionaryTrainer(Float32Array.from(ink), options);
    const start = performance.now();
    trainer.train(steps);
    return steps / ((performance.now() - start) / 1000);
}"""

WATCH = """() => {
    const node = document.getElementById("w");
    window.watch = {snapshots: [], longTasks: [], gaps: [], watching: true};
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.watch.longTasks.push(e.duration); })
        .observe({type: "longtask"});
    node.addEventListener("drawtrain:snapshot", (e) => window.watch.snapshots.push([performance.now(), e.detail.step]));
    let last = performance.now();
    const tick = (now) => { window.watch.gaps.push(now - last); last = now;
                            if (window.watch.watching) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    window.watch.clicked = performance.now();
    node.querySelector(".sae-dt-primary").click();
}"""


def browser_figures(browser, repeats: int) -> dict:
    ink = drawing(CONFIG.drawing).ravel().tolist()
    options = {"sparsity": CONFIG.sparsity, "seed": CONFIG.seed}
    page = browser.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(path=str(JS))
    page.evaluate(JS_RAW, [ink, options, 50])  # warm the JIT, as a page that trained once would be
    raw = max(page.evaluate(JS_RAW, [ink, options, CONFIG.steps]) for _ in range(repeats))
    page.close()

    widget_runs = []
    for _ in range(repeats):
        page = browser.new_page()
        page.set_content("<!doctype html><html data-theme='light'><body>"
                         + draw_train_html("w", drawing=CONFIG.drawing) + "</body></html>")
        page.evaluate(WATCH)
        page.wait_for_function("document.getElementById('w').dataset.state === 'done'", timeout=120_000)
        watch = page.evaluate("() => { window.watch.watching = false; return window.watch; }")
        page.close()
        clicked, snapshots = watch["clicked"], watch["snapshots"]

        def seconds_to(step):
            return next((t - clicked) / 1000 for t, s in snapshots if s >= step)

        first, last = snapshots[0], snapshots[-1]
        widget_runs.append({
            "to_100": seconds_to(100), "to_200": seconds_to(200), "to_end": seconds_to(CONFIG.steps),
            "worker_steps_per_s": (last[1] - first[1]) / ((last[0] - first[0]) / 1000),
            "long_tasks": len(watch["longTasks"]), "longest_task_ms": max(watch["longTasks"], default=0),
            "median_gap_ms": float(np.median(watch["gaps"])), "max_gap_ms": max(watch["gaps"]),
        })
    best = min(widget_runs, key=lambda run: run["to_200"])
    return {"raw_steps_per_s": raw, **best}


def build_precomputed() -> tuple[float, list[tuple[str, int, int]]]:
    """Every drawing × sparsity run from scratch into an empty cache: seconds, and (drawing, runs, bytes)."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["EXPLAINERS_CACHE"] = folder
        start = time.perf_counter()
        for name in DRAWINGS:
            sae.sparsity_sweep(drawing=name)
        seconds = time.perf_counter() - start
        sizes = []
        files = list(Path(folder).rglob("*.npz"))
        for name in DRAWINGS:
            mine = [f for f in files if _drawing_of(f) == name]
            sizes.append((name, len(mine), sum(f.stat().st_size for f in mine)))
    del os.environ["EXPLAINERS_CACHE"]
    return seconds, sizes


def _drawing_of(path: Path) -> str:
    from explainers.cache import load

    return load(path).meta["config"]["drawing"]


def main(repeats: int = 3) -> None:
    machine = describe()
    print(f"{machine['device_name']}, {machine['cpu_count']} cores, torch {machine['torch']}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"config: {CONFIG}")

    torch_rate, run = torch_steps_per_second(repeats)
    edges = {int(s): float(np.median(e)) for s, e in zip(run["step"], run["edge_likeness"])}
    print(f"\ntorch, CPU, 1 thread     {torch_rate:7.0f} steps/s  ({run.meta['n_patches']} patches)")

    with chromium() as browser:
        js = browser_figures(browser, repeats)
    print(f"JS, page thread (warm)   {js['raw_steps_per_s']:7.0f} steps/s")
    print(f"JS, widget's Worker      {js['worker_steps_per_s']:7.0f} steps/s  (with snapshots every 80 ms)")
    print(f"widget: click -> step 100 {js['to_100']:.2f} s, step 200 {js['to_200']:.2f} s, "
          f"step {CONFIG.steps} {js['to_end']:.2f} s")
    print(f"median edge-likeness of the atoms: step 0 {edges[0]:.2f}, 100 {edges[100]:.2f}, "
          f"200 {edges[200]:.2f}, {CONFIG.steps} {edges[CONFIG.steps]:.2f}  (noise ~0.25, clean edge > 0.9)")
    print(f"page while training: {js['long_tasks']} long tasks (longest {js['longest_task_ms']:.0f} ms), "
          f"frame gap median {js['median_gap_ms']:.1f} ms, max {js['max_gap_ms']:.0f} ms")

    seconds, sizes = build_precomputed()
    total_runs = sum(n for _, n, _ in sizes)
    print(f"\nprecomputed: {total_runs} runs ({len(DRAWINGS)} drawings × {len(sae.SPARSITY_GRID)} sparsities "
          f"{sae.SPARSITY_GRID}) built in {seconds:.1f} s")
    for name, n, size in sizes:
        print(f"  {name:14s} {n} runs  {size / 1e6:5.2f} MB  ({size / n / 1e3:.0f} kB per run)")
    print(f"  all            {sum(s for *_, s in sizes) / 1e6:5.2f} MB on disk (npz, uncompressed)")
    print(f"\nload average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
