"""Every chart in the book, by its stable id: what the slides page lists and ``export`` writes.

Each entry builds the chart from the same library calls its chapter makes (training comes from the
cache, so building a chart for export retrains nothing that the book already trained).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .embed import Chart


@dataclass(frozen=True)
class Entry:
    title: str
    page: str  # the chapter that shows it, relative to book/
    build: Callable[[], Chart]


def _one_neuron() -> Chart:
    from .regression import book_runs
    from .regression.chart import chart

    return chart(book_runs())


def _superposition(chart_id: str) -> Chart:
    from .sae.superposition_report import book_chart

    return book_chart(chart_id)


REGISTRY: dict[str, Entry] = {
    "one-neuron": Entry("One neuron learns: gradient descent on California Housing", "one-neuron", _one_neuron),
    "superposition-star": Entry("Five features in two neurons: the star forms as the toy model trains",
                                "superposition", lambda: _superposition("superposition-star")),
    "superposition-phases": Entry("The phase diagram: 2 features in 1 neuron, over sparsity and importance",
                                  "superposition", lambda: _superposition("superposition-phases")),
    "pentagon-sae": Entry("An SAE on the pentagon's 2 neurons: do its latents find the 5 directions?",
                          "superposition", lambda: _superposition("pentagon-sae")),
    "serial-vs-parallel": Entry("One matrix product, computed serially and in parallel waves", "cpu-vs-gpu",
                                lambda: _hardware("serial-vs-parallel")),
    "matmul-throughput": Entry("Matrix multiply throughput over sizes, against each device's peak", "cpu-vs-gpu",
                               lambda: _hardware("matmul-throughput")),
}


def _hardware(chart_id: str) -> Chart:
    """The CPU vs GPU charts (called by their entries above, so it may be defined after them)."""
    from .hardware.chart import schedule_chart, throughput_chart
    from .hardware.report import book_measurements

    bench, steps, records = book_measurements()
    return schedule_chart(steps) if chart_id == "serial-vs-parallel" else throughput_chart(bench, records)


def build(chart_id: str) -> Chart:
    if chart_id not in REGISTRY:
        raise KeyError(f"no chart {chart_id!r}; the book's charts are: {', '.join(REGISTRY)}")
    return REGISTRY[chart_id].build()
