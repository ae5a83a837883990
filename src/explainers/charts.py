"""Every chart in the book, by its stable id, read from the scenes: what the slides page lists, what
``python -m explainers export`` writes, and what each chapter shows.

A scene is a folder of this package with ``train.py`` (the cached training), ``runs.py`` (``runs()``:
the chapter's runs as one typed object, a subclass of ``explainers.runs.Runs``; ``tiny_config()``),
``charts.py`` (``PAGE``, ``CHARTS = {id: title}`` and ``chart(id, runs)``; Bokeh, never torch) and
``facts.py`` (``facts(runs)``: the numbers the chapter quotes). A folder whose ``charts.py`` assigns
``CHARTS`` is a scene: it is listed here without an edit. ``build(id)`` is the one way to a chart, for
the chapters, the slide copies and the export command alike; training comes from the cache, so a chart
built for export retrains nothing the book already trained.
"""
from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

from .embed import Chart

HERE = Path(__file__).resolve().parent
PACKAGE = __name__.rsplit(".", 1)[0]
TOC = HERE.parents[1] / "_toc.yml"  # in a source checkout: the book's order of chapters


@dataclass(frozen=True)
class Entry:
    title: str
    page: str  # the chapter that shows it, relative to book/
    scene: str  # the package folder that builds it


def _assigns_charts(charts_file: Path) -> bool:
    """Whether ``charts.py`` assigns ``CHARTS`` at its top level (read as text: no import needed)."""
    for node in ast.parse(charts_file.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "CHARTS" for t in targets):
            return True
    return False


def module(scene: str, name: str):
    """A scene's ``train``, ``runs``, ``charts`` or ``facts`` module."""
    return importlib.import_module(f"{PACKAGE}.{scene}.{name}")


def _book_position(page: str) -> int:
    """Where the chapter stands in the book's table of contents (unlisted pages go last)."""
    toc = TOC.read_text() if TOC.exists() else ""
    found = re.search(rf"^\s*-?\s*(file|root):\s*book/{re.escape(page)}\s*$", toc, re.MULTILINE)
    return found.start() if found else len(toc)


def _registry() -> tuple[tuple[str, ...], dict[str, Entry]]:
    found = sorted(folder.name for folder in HERE.iterdir()
                   if (folder / "charts.py").is_file() and _assigns_charts(folder / "charts.py"))
    pages = {scene: module(scene, "charts") for scene in found}
    listing = [(scene, charts.PAGE, charts.CHARTS) for scene, charts in pages.items()]
    listing.sort(key=lambda item: (_book_position(item[1]), item[0]))
    registry: dict[str, Entry] = {}
    for scene, page, titles in listing:
        for chart_id, title in titles.items():
            if chart_id in registry:
                raise RuntimeError(f"chart id {chart_id!r} is used by {registry[chart_id].scene} and {scene}")
            registry[chart_id] = Entry(title, page, scene)
    return tuple(s for s, _, _ in listing), registry


SCENES, REGISTRY = _registry()


def build(chart_id: str, runs=None) -> Chart:
    """The chart ``chart_id``, from ``runs`` (the scene's ``runs.runs()``; read from the cache if not given)."""
    if chart_id not in REGISTRY:
        raise KeyError(f"no chart {chart_id!r}; the book's charts are: {', '.join(REGISTRY)}")
    scene = REGISTRY[chart_id].scene
    if runs is None:
        runs = module(scene, "runs").runs()
    return module(scene, "charts").chart(chart_id, runs)
