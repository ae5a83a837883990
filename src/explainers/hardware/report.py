"""The numbers and sentences the CPU vs GPU chapter quotes, read from the Timelines (never typed in).

``bench``: a ``measure`` Timeline (this machine); ``steps``: a ``serial_vs_parallel`` Timeline;
``records``: recorded GPU runs (``load_records()``), each a ``measure`` Timeline with provenance.
"""
from __future__ import annotations

import html
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from ..embed import Html
from .bench import BenchConfig, ScheduleConfig, measure, serial_vs_parallel
from .records import load_records

DTYPE_NAMES = {"float32": "fp32", "float64": "fp64", "bfloat16": "bf16"}


class Markdown(str):
    """Text the chapter shows as Markdown (``{glue:md}``); still a plain string everywhere else."""

    def _repr_markdown_(self) -> str:
        return str(self)


def book_measurements():
    """The chapter's Timelines: this machine's benchmark, the animated schedules, recorded GPU runs."""
    return measure(BenchConfig()), serial_vs_parallel(ScheduleConfig()), load_records()


# --- small formatters ----------------------------------------------------------------------------

def seconds_text(seconds: float) -> str:
    """A duration with a unit a reader can picture: 36.2 ms, 8.3 µs, 1.25 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            return f"{seconds / scale:.3g} {unit}"
    raise AssertionError("unreachable")


def rate_text(gflops: float, digits: int = 3) -> str:
    """A FLOP rate in GFLOP/s, or TFLOP/s from 1,000 GFLOP/s up."""
    if gflops >= 1000:
        return f"{gflops / 1000:.{digits}g} TFLOP/s"
    return f"{gflops:.{digits}g} GFLOP/s"


def peak_text(gflops: float) -> str:
    """A peak as its source prints it: one decimal, GFLOP/s or TFLOP/s. Halves round up, as the
    source's own unrounded figure did (a stored 78.25 was 78.2536)."""
    value, unit = (gflops / 1000, "TFLOP/s") if gflops >= 1000 else (gflops, "GFLOP/s")
    return f"{Decimal(str(value)).quantize(Decimal('0.1'), ROUND_HALF_UP):,} {unit}"


def percent_text(fraction: float) -> str:
    """58%, 5.8%, 0.041%: two significant figures below 10%."""
    value = fraction * 100
    return f"{value:.0f}%" if value >= 10 else f"{value:.2g}%"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def times_text(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2g}×"


# --- reading a benchmark Timeline -----------------------------------------------------------------

def series_arrays(timeline, name: str) -> dict:
    """One series' measured sizes only: ``n``, ``seconds``, ``gflops``, ``fraction`` (the mask applied)."""
    mask = np.asarray(timeline[f"{name}.measured"], dtype=bool)
    return {"n": timeline["n"][mask].astype(float),
            "seconds": timeline[f"{name}.seconds"][mask].astype(float),
            "gflops": timeline[f"{name}.gflops"][mask].astype(float),
            "fraction": timeline[f"{name}.peak_fraction"][mask].astype(float)}


def measured_series(timeline, device: str | None = None) -> list[dict]:
    """The series' meta entries that measured at least one size (on ``device`` when given)."""
    return [s for s in timeline.meta["series"]
            if (device is None or s["device"] == device) and timeline[f"{s['name']}.measured"].any()]


def best(timeline, series: dict) -> dict:
    """Where a series came closest to its device's peak: GFLOP/s, n, fraction (None: peak unknown)."""
    arrays = series_arrays(timeline, series["name"])
    i = int(np.argmax(arrays["gflops"]))
    return {"gflops": float(arrays["gflops"][i]), "n": int(arrays["n"][i]),
            "fraction": float(arrays["fraction"][i]) if series["peak_gflops"] else None}


def peak_name(device_name: str, device: str, dtype: str) -> str:
    return f"{'CPU' if device == 'cpu' else device_name} {DTYPE_NAMES.get(dtype, dtype)} peak"


def short_source(source: str) -> str:
    """The first sentence of a peak's source: the formula or the datasheet, without the caveats."""
    return source.split(". ")[0].rstrip(".")


def peak_label(device_name: str, device: str, dtype: str, peak: dict) -> str:
    """A peak line's label: what it is and where it comes from (the formula, or the datasheet)."""
    name = peak_name(device_name, device, dtype)
    if device == "cpu":
        return f"{name}: {short_source(peak['source'])}"
    datasheet = peak["source"].split(":")[0].split(" (")[0]
    return f"{name} {peak_text(peak['gflops'])} · {datasheet}"


def gpu_name(timeline) -> str | None:
    cuda = timeline.meta.get("devices", {}).get("cuda")
    return cuda["device_name"] if cuda else None


def measured_on(timeline) -> str:
    """The date a Timeline was measured: a record's provenance, else when the cache stored it."""
    if timeline.meta.get("source") == "recorded":
        return timeline.meta["provenance"]["date"][:10]
    return timeline.meta["computed_at"][:10]


def gpu_timelines(bench, records) -> list:
    """The timelines that hold GPU measurements: this machine's when it had one, then the records."""
    mine = [bench] if measured_series(bench, "cuda") else []
    return mine + [r for r in records if measured_series(r, "cuda")]


def where_text(timeline) -> str:
    """Device, versions and date of one benchmark Timeline, in a sentence."""
    meta = timeline.meta
    cpu = meta["devices"]["cpu"]
    blas = ", ".join(f"{b['internal_api']} {b['version']}" for b in meta.get("blas", []))
    if meta.get("source") == "recorded":
        p = meta["provenance"]
        return (f"{p['device_name']} (driver {p['driver']}, CUDA {p['cuda']}), torch {p['torch']}, "
                f"recorded {p['date'][:10]} by `{p['command']}`")
    gpu = gpu_name(timeline)
    devices = f"{meta['cpu']['model']} ({meta['cpu']['cores']} cores)" + (f" and {gpu}" if gpu else ", no GPU")
    return (f"{devices}; Python {cpu['python']}, torch {cpu['torch']}, NumPy {cpu['numpy']}"
            + (f" with {blas}" if blas else "") + f"; measured {measured_on(timeline)}")


# --- the chapter's facts ----------------------------------------------------------------------------

def peak_note(bench) -> str:
    """What the measurements say about the computed CPU peak, and so about the clock it assumed."""
    meta = bench.meta
    exceeded = [s for s in measured_series(bench, "cpu") if s["name"] in meta["peak_exceeded"]]
    clock = f"{meta['cpu']['clock_ghz']:.4g} GHz"
    if exceeded:
        parts = [f"{s['label']} ({percent_text(best(bench, s)['fraction'])})" for s in exceeded]
        return (f"Measured rates went above this peak: {', '.join(parts)}. No program can beat a true "
                f"ceiling, so the ceiling is set too low: the cores ran faster than the {clock} the machine "
                "reports (a boost clock), and the real peak is higher than the one drawn.")
    return (f"No measurement went above the computed peak. That does not prove the {clock} reading right: "
            "a core that boosts above it has a higher true peak, and every fraction here would then be a "
            "little smaller.")


def contention_note(bench, factor: float = 1.5) -> str:
    """Sizes at which NumPy on every core took ``factor`` times longer than on one: a shared machine."""
    single, many = series_arrays(bench, "numpy_1thread"), series_arrays(bench, "numpy_all_cores")
    both, at_single, at_many = np.intersect1d(single["n"], many["n"], return_indices=True)
    slower = [int(n) for n, a, b in zip(both, at_single, at_many)
              if many["seconds"][b] > factor * single["seconds"][a]]
    cores = bench.meta["cpu"]["cores"]
    if not slower:
        return f"NumPy on all {cores} cores was never much slower than on one thread here."
    sizes = ", ".join(f"{n:,}" for n in slower)
    return (f"At {len(slower)} of the {len(both)} sizes (n = {sizes}) NumPy on all {cores} cores took more than "
            f"{factor:g} times as long as NumPy on one thread. The machine that built this book runs other "
            "jobs too: a product split across cores waits for its slowest thread, and a thread whose core is "
            "busy waits for its turn.")


def gpu_story(bench, records) -> str:
    """The crossover paragraph (Markdown): from which size the GPU, copies included, beats the CPU."""
    runs = gpu_timelines(bench, records)
    if not runs:
        return ("**No GPU record exists yet.** The machine that built this book has no GPU, and no "
                "recorded GPU run is stored with it, so this chapter shows no GPU numbers: the chart "
                "holds CPU series only. Running `python -m explainers.hardware.records` on a machine with "
                "an NVIDIA GPU stores one, with its device, driver, versions and date, and the next build "
                "draws it beside these.")
    sentences = []
    for timeline in runs:
        where = "this machine" if timeline is bench else f"the run recorded on {measured_on(timeline)}"
        device = gpu_name(timeline) or timeline.meta.get("provenance", {}).get("device_name", "the GPU")
        for name, found in timeline.meta.get("crossover", {}).items():
            if not name.endswith("_transfer"):
                continue
            label = next(s["label"] for s in timeline.meta["series"] if s["name"] == name)
            against = f"{found['against']} on its {timeline.meta['cpu']['model']}"
            if found["n"] is None:
                sentences.append(f"On {where} ({device}), {label} did not beat {against} at any "
                                 f"size both measured (up to n = {found['compared_up_to_n']:,}).")
            else:
                sentences.append(f"On {where} ({device}), {label} beats {against} from "
                                 f"n = {found['n']:,} on (compared up to n = {found['compared_up_to_n']:,}).")
    return " ".join(sentences)


def facts(bench, steps, records) -> dict:
    """Everything the chapter's text quotes, by name, for ``myst_nb.glue``."""
    meta, cpu = bench.meta, bench.meta["cpu"]
    measured = steps.meta["measured"]
    serial, fastest = measured[0], min(measured[1:], key=lambda m: m["median_s"])
    by_name = {s["name"]: s for s in bench.meta["series"]}
    loop = best(bench, by_name["python_loop"])
    top = max(measured_series(bench, "cpu"), key=lambda s: best(bench, s)["gflops"])
    top_best = best(bench, top)
    schedules = steps.meta["schedules"]
    return {
        "cpu_model": cpu["model"],
        "cpu_cores": f"{cpu['cores']}",
        "cpu_clock": f"{cpu['clock_ghz']:.4g} GHz",
        "cpu_flops_per_cycle": f"{cpu['flops_per_cycle']['float32']}",
        "cpu_flops_per_cycle_fp64": f"{cpu['flops_per_cycle']['float64']}",
        "cpu_peak": peak_text(meta["peaks"]["cpu"]["float32"]["gflops"]),
        "cpu_peak_fp64": peak_text(meta["peaks"]["cpu"]["float64"]["gflops"]),
        "cpu_clock_source": cpu["clock_source"].split(" (")[0],
        "flops_why": Markdown(meta["peaks"]["cpu"]["float32"]["source"].split("FLOP/cycle: ", 1)[-1].rstrip(".")),
        "cells": f"{steps.meta['config']['n'] ** 2}",
        "grid_n": f"{steps.meta['config']['n']}",
        "serial_steps": f"{schedules[0]['steps']}",
        "parallel_steps": " and ".join(f"{s['steps']}" for s in schedules[1:]),
        "schedules": Markdown(capitalised("; ".join(f"{s['label']}, in {s['steps']} step"
                                                    + ("s" if s["steps"] != 1 else "") for s in schedules))),
        "product_n": f"{serial['n']}",
        "serial_time": seconds_text(serial["median_s"]),
        "fastest_label": fastest["label"],
        "fastest_time": seconds_text(fastest["median_s"]),
        "fastest_speedup": times_text(fastest["speedup_vs_serial"]),
        "loop_rate": rate_text(loop["gflops"]),
        "loop_fraction": percent_text(loop["fraction"]),
        "top_label": top["label"],
        "top_rate": rate_text(top_best["gflops"]),
        "top_n": f"{top_best['n']:,}",
        "top_fraction": percent_text(top_best["fraction"]),
        "peak_note": Markdown(peak_note(bench)),
        "contention_note": Markdown(contention_note(bench)),
        "gpu_story": Markdown(gpu_story(bench, records)),
        "bench_where": Markdown(where_text(bench)),
        "records_where": Markdown("; ".join(where_text(r) for r in records) or "none"),
        "measure_time": f"{meta['measure_time_s']:.1f} s",
    }


def series_table(bench, records=()) -> Html:
    """Every series: where it ran, in what type, and its best rate against its device's peak."""
    rows = []
    for timeline in [bench, *records]:
        recorded = timeline.meta.get("source") == "recorded"
        for s in measured_series(timeline, "cuda" if recorded else None):
            b = best(timeline, s)
            device = gpu_name(timeline) if s["device"] == "cuda" else timeline.meta["cpu"]["model"]
            fraction = percent_text(b["fraction"]) if b["fraction"] is not None else "peak unknown"
            where = f"{device}" + (f" (recorded {measured_on(timeline)})" if recorded else "")
            rows.append(
                f"<tr><td>{html.escape(s['label'])}</td><td>{html.escape(where)}</td>"
                f"<td>{DTYPE_NAMES.get(s['dtype'], s['dtype'])}</td><td>{s['threads'] or '—'}</td>"
                f"<td>{html.escape(rate_text(b['gflops']))} at n = {b['n']:,}</td>"
                f"<td>{fraction}</td></tr>")
    return Html(
        "<table class='table'><thead><tr><th>series</th><th>device</th><th>type</th><th>threads</th>"
        "<th>best rate</th><th>of the device's peak</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>")
