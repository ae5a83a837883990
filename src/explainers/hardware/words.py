"""How the CPU vs GPU chapter writes its numbers (durations, rates, peaks, percentages) and reads a
benchmark's series (``runs.Bench``): what ``facts`` and ``charts`` both use, so neither imports the other."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from .peak import gpu_peak

DTYPE_NAMES = {"float32": "fp32", "float64": "fp64", "bfloat16": "bf16"}


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


def article(word: str) -> str:
    """"an" before a model name that starts with a vowel (AMD, Intel, unknown CPU), else "a"."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def cores_of(cores: int, model: str) -> str:
    """"2 cores of an AMD EPYC", "1 core of a Neoverse-N1"."""
    return f"{count_text(cores, 'core')} of {article(model)} {model}"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def times_text(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2g}×"


def count_text(n: int, noun: str, plural: str | None = None) -> str:
    """1 core, 2 cores, 0 cores: the number and the noun in the form it takes."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def bytes_text(count: float) -> str:
    """A size in decimal units, as link speeds are given: 1.61 GB, 537 MB, 12 kB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:.0f} bytes"


# --- reading a benchmark Timeline -----------------------------------------------------------------

def series_arrays(bench, name: str) -> dict:
    """One series' measured sizes only: ``n``, ``seconds``, ``gflops``, ``fraction`` (the mask applied)."""
    t = bench.timeline
    mask = np.asarray(t[f"{name}.measured"], dtype=bool)
    return {"n": t["n"][mask].astype(float),
            "seconds": t[f"{name}.seconds"][mask].astype(float),
            "gflops": t[f"{name}.gflops"][mask].astype(float),
            "fraction": t[f"{name}.peak_fraction"][mask].astype(float)}


def measured_series(bench, device: str | None = None) -> list[dict]:
    """The series' meta entries that measured at least one size (on ``device`` when given)."""
    return [s for s in bench.series
            if (device is None or s["device"] == device) and bench.timeline[f"{s['name']}.measured"].any()]


def best(bench, series: dict) -> dict:
    """Where a series came closest to its device's peak: GFLOP/s, n, fraction (None: peak unknown)."""
    arrays = series_arrays(bench, series["name"])
    i = int(np.argmax(arrays["gflops"]))
    return {"gflops": float(arrays["gflops"][i]), "n": int(arrays["n"][i]),
            "fraction": float(arrays["fraction"][i]) if series["peak_gflops"] else None}


def peak_name(device_name: str, device: str, dtype: str) -> str:
    return f"{'CPU' if device == 'cpu' else device_name} {DTYPE_NAMES.get(dtype, dtype)} peak"


def short_source(source: str) -> str:
    """The first sentence of a peak's source: the formula or the datasheet, without the caveats."""
    return source.split(". ")[0].rstrip(".")


def peak_label(device_name: str, device: str, dtype: str, peak: dict) -> str:
    """A peak line's label: what it is and where it comes from (the formula, or the datasheet's figure,
    with a sparse figure's halving)."""
    name = peak_name(device_name, device, dtype)
    if device == "cpu":
        return f"{name}: {short_source(peak['source'])}"
    # a record stores the peak it was measured against; the table's current wording (which shows a sparse
    # figure's halving) replaces it when both give the same peak
    current = gpu_peak(device_name)[dtype]
    source = current["source"] if current["gflops"] == peak["gflops"] else peak["source"]
    source = re.sub(r" \((?:www\.)?nvidia\.com[^)]*\)", "", source)
    return f"{name} {peak_text(peak['gflops'])} · {source}"
