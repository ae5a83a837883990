"""Every chart in the book, by its stable id: what the slides page lists and ``export`` writes.

Each entry builds the chart from the same library calls its chapter makes (training comes from the
cache, so building a chart for export retrains nothing that the book already trained). The builders
import their topics with plain import statements: the book's rebuild check follows those imports to
know which code a chart depends on.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from .embed import Chart


@dataclass(frozen=True)
class Entry:
    title: str
    page: str  # the chapter that shows it, relative to book/
    build: Callable[[], Chart]


def _one_neuron(chart_id: str) -> Chart:
    from .regression import book_runs
    from .regression.chart import chart

    return chart(book_runs(), chart_id)


def _reward(chart_id: str) -> Chart:
    from .cartpole.report import book_chart

    return book_chart(chart_id)


def _hardware(chart_id: str) -> Chart:
    from .hardware.chart import schedule_chart, throughput_chart
    from .hardware.report import book_measurements

    bench, steps, records = book_measurements()
    return schedule_chart(steps) if chart_id == "serial-vs-parallel" else throughput_chart(bench, records)


def _unmixer(chart_id: str) -> Chart:
    from .sae.dictionary_report import book_chart

    return book_chart(chart_id)


def _superposition(chart_id: str) -> Chart:
    from .sae.superposition_report import book_chart

    return book_chart(chart_id)


def _real_model(chart_id: str) -> Chart:
    from .real_model import charts, train

    return charts.chart(chart_id, train.runs())


def _steering(chart_id: str) -> Chart:
    from .steering import charts, train

    return charts.chart(chart_id, train.runs())


def _entries(page: str, builder, titles: dict[str, str]) -> dict[str, Entry]:
    return {chart_id: Entry(title, page, partial(builder, chart_id)) for chart_id, title in titles.items()}


REGISTRY: dict[str, Entry] = {
    **_entries("one-neuron", _one_neuron, {
        "one-neuron": "One neuron learns: gradient descent on California Housing",
    }),
    **_entries("learning-from-reward", _reward, {
        "cartpole-rewards": "Learning from reward: CartPole reward per training episode",
        "cartpole-agent": "Learning from reward: the agent at work at four checkpoints of training",
    }),
    **_entries("cpu-vs-gpu", _hardware, {
        "serial-vs-parallel": "One matrix product, computed serially and in parallel waves",
        "matmul-throughput": "Matrix multiply throughput over sizes, against each device's peak",
    }),
    **_entries("unmixer", _unmixer, {
        "dictionary-grid": "Learning a dictionary of strokes from a drawing, over sparsity strengths",
    }),
    **_entries("superposition", _superposition, {
        "superposition-star": "Five features in two neurons: the star forms as the toy model trains",
        "superposition-phases": "The phase diagram: 2 features in 1 neuron, over sparsity and importance",
        "pentagon-sae": "An SAE on the pentagon's 2 neurons: do its latents find the 5 directions?",
    }),
    **_entries("real-model", _real_model, {
        "real-model-sae-training": "Training a TopK SAE on SmolLM2's residual stream",
        "real-model-density": "Feature density of the SAE's latents",
        "real-model-dog-cat": "A dog sentence and a cat sentence in the SAE's latent space",
        "real-model-auc": "Detecting WordNet concepts: the best single feature against the best single neuron",
        "real-model-interpretability": "How well an automatic explanation predicts random features and random neurons",
    }),
    **_entries("steering", _steering, {
        "steering-strength": "Steering SmolLM2: answers, mentions and fluency against strength",
    }),
}


def build(chart_id: str) -> Chart:
    if chart_id not in REGISTRY:
        raise KeyError(f"no chart {chart_id!r}; the book's charts are: {', '.join(REGISTRY)}")
    return REGISTRY[chart_id].build()
