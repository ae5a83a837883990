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


REGISTRY: dict[str, Entry] = {
    "one-neuron": Entry("One neuron learns: gradient descent on California Housing", "one-neuron", _one_neuron),
}


def build(chart_id: str) -> Chart:
    if chart_id not in REGISTRY:
        raise KeyError(f"no chart {chart_id!r}; the book's charts are: {', '.join(REGISTRY)}")
    return REGISTRY[chart_id].build()
