"""The numbers and sentences the CPU vs GPU chapter quotes, read from the runs (never typed in).

``facts(runs)`` takes ``runs.runs()``: ``bench`` (this machine's ``runs.Bench``), ``steps`` (the
``runs.Schedules``) and ``records`` (recorded GPU runs, each a ``Bench`` with provenance, some with the
book's trainers timed on the CPU and the GPU). The small formatters and series
readers it shares with ``charts`` are in ``words``.
"""
from __future__ import annotations

import html

import numpy as np

from ..markup import Html, Markdown
from .peak import GPU_PEAKS
from .words import (DTYPE_NAMES, best, bytes_text, capitalised, cores_of, count_text, measured_series, peak_text,
                    percent_text, rate_text, seconds_text, series_arrays, times_text)



# Published figures the chapter quotes, each with its source (they are not measured here).
# Ivanov et al., "Data Movement Is All You Need", MLSys 2021, Table 1: operator classes of BERT training
# in PyTorch, share of floating-point operations against share of runtime.
IVANOV_2021 = {"contraction_flop": 99.80, "contraction_runtime": 61.0,
               "normalization_flop": 0.17, "normalization_runtime": 25.5,
               "elementwise_flop": 0.03, "elementwise_runtime": 13.5}


# Bytes per element of the types the benchmark times (bfloat16 has no NumPy dtype to ask).
ITEM_BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2}

# The vector instruction set a peak's FLOP/cycle reason names (``peak.fp32_flops_per_cycle`` starts
# every reason with it), with the width of its registers: name, bits, float32 lanes.
VECTOR_SETS = (("AVX-512", "AVX-512", 512, 16), ("AVX2", "AVX2", 256, 8), ("AVX", "AVX", 256, 8),
               ("SSE", "SSE", 128, 4))


def vector_set(reason: str) -> dict | None:
    """The register width behind a peak's FLOP/cycle reason, or None when the reason names no set."""
    for prefix, name, bits, lanes in VECTOR_SETS:
        if reason.startswith(prefix):
            return {"name": name, "bits": bits, "lanes": lanes}
    return None


def cpu_vendor(model: str) -> str | None:
    """Intel, AMD or None (unknown), from the model name the machine reports."""
    lowered = model.lower()
    return "Intel" if "intel" in lowered else "AMD" if "amd" in lowered else None


def flops_reason(peak_source: str, model: str) -> str:
    """Why a core retires the FLOP/cycle it is counted with, from the peak's source, said of this CPU.

    The peak table's AVX-512 reason carries a caveat about Xeons with one FMA unit per core; it is kept,
    in words, only for an Intel CPU, since it says nothing about any other vendor's cores."""
    reason = peak_source.split("FLOP/cycle: ", 1)[-1].rstrip(".")
    reason = reason.replace("; fp64 has half the lanes", "")
    caveat = " (some Xeons have 1 unit: half)"
    if caveat in reason:
        reason = reason.replace(caveat, "")
        if cpu_vendor(model) == "Intel":
            reason += " (some Xeons have only one such unit per core, which halves this)"
    return reason


def schedule_label(lanes: int, cells: int, vectors: dict | None) -> str:
    """What computing ``lanes`` output cells at a time stands for, said truly of the CPU that was measured:
    the width of its own vector registers where that is known."""
    if lanes == 1:
        return "serial: one output cell after another"
    if lanes >= cells:
        return "all cells at once (a GPU runs a thread per cell)"
    if vectors is None:
        return f"{lanes} at a time, as a vector register holding {lanes} float32 would"
    if vectors["lanes"] == lanes:
        return (f"{lanes} at a time, as one {vectors['bits']}-bit {vectors['name']} register of this CPU "
                f"holds {lanes} float32")
    width = lanes * 32
    return (f"{lanes} at a time, as one {width}-bit register holds {lanes} float32 (this CPU's "
            f"{vectors['name']} registers hold {vectors['lanes']})")



def gpu_runs(bench, records) -> list:
    """The benchmarks that hold GPU measurements: this machine's when it had one, then the records."""
    mine = [bench] if measured_series(bench, "cuda") else []
    return mine + [r for r in records if measured_series(r, "cuda")]


def where_text(bench) -> str:
    """Device, versions and date of one benchmark, in a sentence."""
    blas = ", ".join(bench.blas)
    if bench.recorded:
        p = bench.provenance
        return (f"{p['device_name']} (driver {p['driver']}, CUDA {p['cuda']}), torch {p['torch']}, "
                f"recorded {p['date'][:10]} by `{p['command']}`")
    gpu = bench.gpu_name
    devices = f"{bench.cpu.model} ({bench.cpu.cores} cores)" + (f" and {gpu}" if gpu else ", no GPU")
    return (f"{devices}; Python {bench.python_version}, torch {bench.torch_version}, NumPy {bench.numpy_version}"
            + (f" with {blas}" if blas else "") + f"; measured {bench.measured_on}")


# --- the chapter's facts ----------------------------------------------------------------------------

def peak_note(bench) -> str:
    """What the measurements say about the computed CPU peak, and so about the clock it assumed."""
    exceeded = [s for s in measured_series(bench, "cpu") if s["name"] in bench.peak_exceeded]
    clock = f"{bench.cpu.clock_ghz:.4g} GHz"
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
    cores = bench.cpu.cores
    if cores == 1:
        return "This machine has one core, so NumPy on all cores ran on one thread as well."
    if not both.size:
        return "NumPy on all cores and on one thread were not timed at the same sizes here."
    every = "both cores" if cores == 2 else f"all {cores} cores"
    if not slower:
        return f"NumPy on {every} was never much slower than on one thread here."
    sizes = ", ".join(f"{n:,}" for n in slower)
    return (f"At {len(slower)} of the {len(both)} sizes (n = {sizes}) NumPy on {every} took more than "
            f"{factor:g} times as long as NumPy on one thread. The machine that built this book runs other "
            "jobs too: a product split across cores waits for its slowest thread, and a thread whose core is "
            "busy waits for its turn.")


def gpu_story(bench, records) -> str:
    """The crossover paragraph (Markdown): from which size the GPU, copies included, beats the CPU."""
    runs = gpu_runs(bench, records)
    if not runs:
        return ("**No GPU record exists yet.** The machine that built this book has no GPU, and no "
                "recorded GPU run is stored with it, so this chapter shows no GPU numbers: the chart "
                "holds CPU series only. Running `python -m explainers.hardware.records` on a machine with "
                "an NVIDIA GPU stores one, with its device, driver, versions and date, and the next build "
                "draws it beside these.")
    sentences = []
    for run in runs:
        where = "this machine" if run is bench else f"recorded {run.measured_on}"
        device = run.gpu_name or (run.provenance or {}).get("device_name", "the GPU")
        found, never, up_to = [], [], 0
        for name, info in run.crossover.items():
            if not name.endswith("_transfer"):
                continue
            dtype = DTYPE_NAMES.get(next(s["dtype"] for s in run.series if s["name"] == name), "")
            up_to = max(up_to, info["compared_up_to_n"])
            if info["n"] is not None:
                found.append(f"from n = {info['n']:,} in {dtype}")
            elif info["compared_up_to_n"]:  # compared, and the GPU never won
                never.append(dtype)
        if not (found or never):
            sentences.append(f"On the {device} ({where}) no size was timed both with copies and on the "
                             "CPU, so there is no crossover to report.")
            continue
        cpu = run.cpu.model
        text = f"On the {device} ({where}), copies included, the GPU"
        if found:
            text += f" beat the fastest CPU series of that machine's {cpu} {' and '.join(found)}"
        if never:
            text += (" and" if found else "") + f" never beat it in {' or '.join(never)}"
        sentences.append(f"{text} (compared up to n = {up_to:,}).")
    return " ".join(sentences)


# --- the GPU record: tensor cores, copies, the book's own trainers -----------------------------------

def shown_gpu_run(bench, records):
    """The GPU run the text talks about: this machine's when it has a GPU, else the newest record."""
    found = gpu_runs(bench, records)
    return found[0] if found and found[0] is bench else (found[-1] if found else None)


def datasheet_card(device_name: str) -> str:
    """The datasheet column a device name matches (``peak.GPU_PEAKS``), else the name itself."""
    import re

    return next((row.card for row in GPU_PEAKS if re.search(row.pattern, device_name)), device_name)


def series_by_name(bench, name: str) -> dict | None:
    return next((s for s in measured_series(bench) if s["name"] == name), None)


def tensor_story(run) -> str:
    fp32, bf16 = series_by_name(run, "torch_cuda_fp32"), series_by_name(run, "torch_cuda_bf16")
    if not (fp32 and bf16):
        return "The recorded GPU run holds no pair of fp32 and bf16 products to compare."
    a, b = best(run, fp32), best(run, bf16)
    peaks = run.peaks["cuda"]

    def reach(result, dtype):
        peak = peaks[dtype]["gflops"]
        return (f"{percent_text(result['fraction'])} of the datasheet's {peak_text(peak)}"
                if result["fraction"] is not None and peak else "against an unknown peak")

    ratio = b["gflops"] / a["gflops"] if a["gflops"] > 0 else None
    verdict = ("" if ratio is None else f": **{times_text(ratio)} faster** on the same chip" if ratio > 1
               else f": the tensor cores were no faster here ({times_text(ratio)} the fp32 rate)")
    return (f"On the {run.gpu_name} ({where_short(run)}), the same matrix products ran at up to "
            f"**{rate_text(a['gflops'])} in fp32** on the CUDA cores ({reach(a, 'float32')}) and up to "
            f"**{rate_text(b['gflops'])} in bf16** on the tensor cores ({reach(b, 'bfloat16')}){verdict}.")


def where_short(run) -> str:
    return "this machine" if not run.recorded else f"recorded {run.measured_on}"


def copy_rows(run, dtype_series: str = "torch_cuda_bf16") -> list[dict]:
    """Per size measured both ways: the product alone, with copies, and the copying (the difference)."""
    alone, copied = series_by_name(run, dtype_series), series_by_name(run, f"{dtype_series}_transfer")
    if not (alone and copied):
        return []
    a, c = series_arrays(run, alone["name"]), series_arrays(run, copied["name"])
    both, ia, ic = np.intersect1d(a["n"], c["n"], return_indices=True)
    item = ITEM_BYTES.get(copied.get("dtype", ""))
    rows = []
    for n, i, j in zip(both, ia, ic):
        compute, total = float(a["seconds"][i]), float(c["seconds"][j])
        copy = max(total - compute, 0.0)
        moved = 3 * int(n) ** 2 * item if item else None  # two inputs to the card, one result back
        rows.append({"n": int(n), "compute_s": compute, "total_s": total,
                     "copy_s": copy, "copy_share": copy / total if total > 0 else 0.0,
                     "rate_alone": float(a["gflops"][i]), "rate_copied": float(c["gflops"][j]),
                     "bytes": moved, "gb_per_s": moved / copy / 1e9 if moved and copy > 0 else None})
    return rows


def copy_rate_text(row: dict) -> str:
    """How many bytes the copies moved and how fast, when both are known."""
    if row["gb_per_s"] is None:
        return ""
    return (f" The copies moved {bytes_text(row['bytes'])} (two inputs to the card, one result back) in "
            f"{seconds_text(row['copy_s'])}, an effective **{row['gb_per_s']:.2g} GB/s**.")


def copy_story(run) -> str:
    rows = copy_rows(run)
    if not rows:
        return "The recorded GPU run holds no bf16 product timed with and without copies."
    last = rows[-1]
    head = (f"At $n =$ {last['n']:,} in bf16 on the {run.gpu_name}, the product itself took "
            f"**{seconds_text(last['compute_s'])}**; with its inputs copied to the card and the result copied "
            f"back, it took **{seconds_text(last['total_s'])}**")
    if last["copy_s"] <= 0:
        return head + ": the copies added no time that these timings can resolve."
    same = [r for r in copy_rows(run, "torch_cuda_fp32") if r["n"] == last["n"]]
    fp32_text = (f" In fp32, whose products take longer, copying was {percent_text(same[0]['copy_share'])} of "
                 "the time at that size." if same and same[0]["copy_s"] > 0 else "")
    return (f"{head}: **{percent_text(last['copy_share'])} of the time went on copying**, and the rate fell "
            f"from {rate_text(last['rate_alone'])} to {rate_text(last['rate_copied'])}."
            f"{copy_rate_text(last)}{fp32_text}")


def copy_table(runs) -> Html:
    """Time split between computing and copying, at every fourth power of two measured both ways."""
    run = shown_gpu_run(runs.bench, runs.records)
    rows = [r for r in copy_rows(run) if r["n"] >= 64 and (r["n"] & (r["n"] - 1)) == 0
            and (r["n"].bit_length() - 1) % 2 == 0] if run else []
    if not rows:
        return Html("")
    body = "".join(
        f"<tr><td>{r['n']:,}</td><td>{seconds_text(r['compute_s'])}</td><td>{seconds_text(r['copy_s'])}</td>"
        f"<td>{seconds_text(r['total_s'])}</td><td>{percent_text(r['copy_share'])}</td></tr>" for r in rows)
    return Html(
        f"<table class='table'><caption>One bf16 product on the {html.escape(run.gpu_name)} "
        f"({html.escape(where_short(run))}): computing, and copying inputs in and the result out (the "
        "difference of the two timed runs)</caption><thead><tr><th>n</th><th>computing</th>"
        "<th>copying</th><th>total</th><th>share copying</th></tr></thead>"
        f"<tbody>{body}</tbody></table>")


def trainer_runs(run) -> list[dict]:
    """The book's trainers timed on both devices in ``run`` (skipped or failed ones left out)."""
    times = (run.trainers or {}) if run else {}
    return [e for e in times.get("runs", [])
            if all("median_s" in (e.get(d) or {}) for d in ("cpu", "cuda"))]


def trainer_name(entry: dict, timed: list[dict]) -> str:
    """A trainer as the text names it: its chapter ("cartpole agent"), with the part after the colon
    when another timed trainer shares that chapter ("superposition, the phase diagram")."""
    head, _, tail = entry["label"].partition(":")
    shared = sum(e["label"].partition(":")[0] == head for e in timed) > 1
    return head.lower() + (f", {tail.strip()}" if shared and tail.strip() else "")


def trainer_story(run) -> str:
    timed = trainer_runs(run)
    if not timed:
        return ("No recorded GPU run holds the book's own trainers yet. The recorder times each of them on "
                "the CPU and on the GPU when it runs on a machine with one; the next record will show them "
                "here.")

    def ratio(e):  # GPU time over CPU time: below 1, the GPU was faster
        return e["cuda"]["median_s"] / e["cpu"]["median_s"] if e["cpu"]["median_s"] > 0 else float("inf")

    faster = [e for e in timed if ratio(e) < 1]
    slower = [e for e in timed if ratio(e) > 1]
    total, even = len(timed), len(timed) - len(faster) - len(slower)
    text = f"On the machine that recorded the {run.gpu_name}, the GPU was "
    if faster:
        best_gain = min(faster, key=ratio)
        share = f"all {total}" if len(faster) == total else f"{len(faster)} of the {total}"
        text += (f"faster than the CPU for **{share}** trainers this book runs, by up to "
                 f"{times_text(1 / ratio(best_gain))} ({trainer_name(best_gain, timed)})")
        text += f", and slower for {len(slower)}. " if slower else ". "
    elif slower:
        share = f"all {total}" if len(slower) == total else f"{len(slower)} of the {total}"
        text += f"slower than the CPU for **{share}** trainers this book runs. "
    else:
        text += f"exactly as fast as the CPU for the {count_text(total, 'trainer')} this book runs. "
    if slower:
        worst = max(slower, key=ratio)
        text += (f"The worst case, {trainer_name(worst, timed)}, took "
                 f"{seconds_text(worst['cuda']['median_s'])} on the GPU against "
                 f"{seconds_text(worst['cpu']['median_s'])} on the CPU ({times_text(ratio(worst))} as long).")
    if even and (faster or slower):
        text += f" {capitalised(count_text(even, 'trainer'))} took the same time on both."
    return text.strip()


def trainer_table(runs) -> Html:
    """The book's trainers on the CPU and on the GPU, when the shown GPU run timed them (else nothing)."""
    run = shown_gpu_run(runs.bench, runs.records)
    timed = trainer_runs(run)
    if not timed:
        return Html("")
    times = run.trainers
    rows = []
    for e in timed:
        cpu, gpu = e["cpu"]["median_s"], e["cuda"]["median_s"]
        verdict = f"{times_text(gpu / cpu)} as long" if gpu > cpu else f"{times_text(cpu / gpu)} faster"
        rows.append(f"<tr><td>{html.escape(e['label'])}</td><td>{seconds_text(cpu)}</td>"
                    f"<td>{seconds_text(gpu)}</td><td>{verdict}</td></tr>")
    skipped = [e["name"] for e in times["runs"] if e not in timed]
    note = f" Not timed there: {', '.join(skipped)}." if skipped else ""
    return Html(
        f"<table class='table'><caption>The book's own trainers, each with its chapter's settings, on the "
        f"{html.escape(times.get('cpu', 'CPU'))} and on the {html.escape(run.gpu_name)} "
        f"({html.escape(where_short(run))}; median of {times['repeats']} runs after a warm-up).{note}"
        "</caption><thead><tr><th>trainer</th><th>CPU</th><th>GPU</th><th>GPU</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>")


def gpu_facts(bench, records) -> dict:
    run = shown_gpu_run(bench, records)
    if run is None:
        none = "No GPU run is recorded, so this build shows none."
        return {"card_sentence": Markdown(none), "tensor_story": Markdown(none), "copy_story": Markdown(none),
                "trainer_story": Markdown(trainer_story(None))}
    card = (f"The GPU measured for this chapter is the **{run.gpu_name}** (the {datasheet_card(run.gpu_name)} "
            f"column of NVIDIA's datasheet), {'on this machine' if run is bench else 'in a run recorded'} "
            f"on {run.measured_on}.")
    return {"card_sentence": Markdown(card), "tensor_story": Markdown(tensor_story(run)),
            "copy_story": Markdown(copy_story(run)), "trainer_story": Markdown(trainer_story(run))}


def facts(runs) -> dict:
    """Everything the chapter's text quotes, by name, for ``myst_nb.glue``."""
    bench, steps, records = runs.bench, runs.steps, runs.records
    cpu = bench.cpu
    measured = steps.measured
    serial, fastest = measured[0], min(measured[1:], key=lambda m: m["median_s"])
    by_name = {s["name"]: s for s in bench.series}
    loop = best(bench, by_name["python_loop"])
    top = max(measured_series(bench, "cpu"), key=lambda s: best(bench, s)["gflops"])
    top_best = best(bench, top)
    schedules = steps.schedules
    cells = steps.n ** 2
    peaks = bench.peaks["cpu"]
    vectors = vector_set(flops_reason(peaks["float32"]["source"], cpu.model))
    return {
        "cpu_model": cpu.model,
        "cpu_cores": f"{cpu.cores}",
        "cpu_cores_model": cores_of(cpu.cores, cpu.model),
        "cpu_clock": f"{cpu.clock_ghz:.4g} GHz",
        "cpu_flops_per_cycle": f"{cpu.flops_per_cycle['float32']}",
        "cpu_flops_per_cycle_fp64": f"{cpu.flops_per_cycle['float64']}",
        "cpu_peak": peak_text(peaks["float32"]["gflops"]),
        "cpu_peak_fp64": peak_text(peaks["float64"]["gflops"]),
        "cpu_clock_source": cpu.clock_source.split(" (")[0],
        "flops_why": Markdown(flops_reason(peaks["float32"]["source"], cpu.model)),
        "cells": f"{cells}",
        "grid_n": f"{steps.n}",
        "serial_steps": f"{schedules[0]['steps']}",
        "parallel_steps": " and ".join(f"{s['steps']}" for s in schedules[1:]),
        "schedules": Markdown(capitalised("; ".join(
            f"{schedule_label(s['lanes'], cells, vectors)}, in {count_text(s['steps'], 'step')}"
            for s in schedules))),
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
        "measure_time": f"{bench.measure_time_s:.1f} s",
        **gpu_facts(bench, records),
        "ivanov_contraction_flop": f"{IVANOV_2021['contraction_flop']:.1f}%",
        "ivanov_contraction_runtime": f"{IVANOV_2021['contraction_runtime']:.0f}%",
        "ivanov_rest_runtime": f"{100 - IVANOV_2021['contraction_runtime']:.0f}%",
        "ivanov_normalization_flop": f"{IVANOV_2021['normalization_flop']:.2f}%",
        "ivanov_normalization_runtime": f"{IVANOV_2021['normalization_runtime']:.1f}%",
    }


def series_table(runs) -> Html:
    """Every series: where it ran, in what type, and its best rate against its device's peak."""
    bench, records = runs.bench, runs.records
    rows = []
    for run in [bench, *records]:
        for s in measured_series(run, "cuda" if run.recorded else None):
            b = best(run, s)
            device = run.gpu_name if s["device"] == "cuda" else run.cpu.model
            fraction = percent_text(b["fraction"]) if b["fraction"] is not None else "peak unknown"
            where = f"{device}" + (f" (recorded {run.measured_on})" if run.recorded else "")
            rows.append(
                f"<tr><td>{html.escape(s['label'])}</td><td>{html.escape(where)}</td>"
                f"<td>{DTYPE_NAMES.get(s['dtype'], s['dtype'])}</td><td>{s['threads'] or '—'}</td>"
                f"<td>{html.escape(rate_text(b['gflops']))} at n = {b['n']:,}</td>"
                f"<td>{fraction}</td></tr>")
    return Html(
        "<table class='table'><thead><tr><th>series</th><th>device</th><th>type</th><th>threads</th>"
        "<th>best rate</th><th>of the device's peak</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>")
