"""The scene contract, checked for every scene and every chart the registry lists (in the spirit of
scikit-learn's ``check_estimator``): the flow holds (chart code never imports torch, training code never
imports Bokeh, facts and charts never import each other, no module of the package imports itself round a
circle), and every scene's tiny runs go through ``facts()`` (plain, finite values) and through every chart
(its registered title, finite data, every name its render script reads passed to ``bind``)."""
from __future__ import annotations

import ast
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bokeh.models import ColumnDataSource, ContourRenderer, CustomJS

from explainers.charts import REGISTRY, SCENES, build, module
from explainers.embed import document
from explainers.markup import Html, Markdown
from js_names import free_names

BOOK = Path(__file__).resolve().parents[1] / "book"
PACKAGE_DIR = Path(module("regression", "charts").__file__).resolve().parents[1]


def imports_in_fresh_python(module_name: str) -> set[str]:
    """The top-level packages loaded by importing ``module_name`` alone, in a new interpreter."""
    code = f"import sys, {module_name}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("module_name", ["explainers.charts", *(f"explainers.{s}.charts" for s in SCENES)])
def test_chart_code_never_imports_torch(module_name):
    assert "torch" not in imports_in_fresh_python(module_name)


@pytest.mark.parametrize("module_name", [f"explainers.{s}.{m}" for s in SCENES for m in ("train", "runs")])
def test_training_code_never_imports_bokeh(module_name):
    assert "bokeh" not in imports_in_fresh_python(module_name)


@pytest.mark.parametrize("scene", SCENES)
def test_every_scene_has_its_chapter(scene):
    assert (BOOK / f"{module(scene, 'charts').PAGE}.md").exists()


def package_imports() -> dict[str, set[str]]:
    """Each module of the package and the modules of the package it imports, read from its source: every
    import statement at any depth (a function-level import counts: it runs the first time it is reached)."""
    files = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in files.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
                target = ".".join(part for part in (base, node.module) if part)
                found |= {target, *(f"{target}.{alias.name}" for alias in node.names)}
        graph[name] = {target for target in found if target in files and target != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as the path that closes it (depth-first, one report per circle's entry)."""
    found, done = [], set()

    def walk(name, path):
        for target in sorted(graph[name]):
            if target in path:
                found.append(path[path.index(target):] + [target])
            elif target not in done:
                walk(target, path + [target])
        done.add(name)

    for name in sorted(graph):
        if name not in done:
            walk(name, [name])
    return found


def test_the_package_has_no_import_circle():
    assert circles(package_imports()) == []


def test_the_circle_finder_sees_a_circle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c", "a"]]


@pytest.mark.parametrize("scene", SCENES)
def test_facts_and_charts_never_import_each_other(scene):
    """Both read the runs; what they share lives in a third module of the scene."""
    graph = package_imports()
    facts, charts = f"explainers.{scene}.facts", f"explainers.{scene}.charts"

    def reaches(start, goal):
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                todo += graph.get(name, ())
        return False

    assert not reaches(facts, charts), f"{facts} imports {charts}"
    assert not reaches(charts, facts), f"{charts} imports {facts}"


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Each scene's runs at its tiny settings, trained once into a fresh cache."""
    found = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPLAINERS_CACHE", str(tmp_path_factory.mktemp("cache")))

        def runs(scene):
            if scene not in found:
                runs_module = module(scene, "runs")
                found[scene] = runs_module.runs(runs_module.tiny_config())
            return found[scene]

        yield runs


def finite_numbers(values) -> bool:
    """Whether every number in a data source column (arrays, lists, lists of arrays) is finite."""
    if isinstance(values, np.ndarray):
        return values.dtype.kind not in "fc" or bool(np.isfinite(values).all())
    if isinstance(values, (list, tuple)):
        return all(finite_numbers(v) for v in values)
    if isinstance(values, float):
        return bool(np.isfinite(values))
    return True


@pytest.mark.parametrize("scene", SCENES)
def test_every_scenes_runs_are_the_one_runs_type(scene, tiny_runs):
    """``runs()`` returns a frozen dataclass subclassing ``Runs``, whose Timelines keep plain JSON meta."""
    import dataclasses
    import json

    from explainers.runs import Runs

    runs = tiny_runs(scene)
    assert isinstance(runs, Runs) and dataclasses.is_dataclass(runs)
    assert type(runs).__dataclass_params__.frozen
    assert runs.timelines(), f"{scene}: its runs hold no Timeline"
    for timeline in runs.timelines():
        json.dumps(timeline.meta)


@pytest.mark.parametrize("scene", SCENES)
def test_charts_and_facts_read_the_runs_by_attribute_not_by_meta_key(scene):
    for name in ("charts", "facts"):
        source = (PACKAGE_DIR / scene / f"{name}.py").read_text()
        assert "meta[" not in source and ".meta.get(" not in source, f"{scene}/{name}.py reads meta by key"


def plain(value) -> bool:
    """A value a chapter can glue: a plain number, string or bool (a finite one), or HTML/Markdown text."""
    if isinstance(value, float):
        return math.isfinite(value)
    return type(value) in (int, bool, str, Html, Markdown)


@pytest.mark.parametrize("scene", SCENES)
def test_facts_of_tiny_runs_are_plain_finite_values(scene, tiny_runs):
    said = module(scene, "facts").facts(tiny_runs(scene))
    assert said and all(isinstance(name, str) for name in said)
    odd = {name: f"{type(value).__name__} {value!r:.60}" for name, value in said.items() if not plain(value)}
    assert not odd, f"{scene}: facts that are not plain finite values: {odd}"


def test_the_plain_value_check_refuses_nan_numpy_numbers_and_lists():
    import numpy as np

    assert plain(1) and plain(0.5) and plain("text") and plain(True) and plain(Html("<b>x</b>"))
    assert not plain(float("nan")) and not plain(np.float32(1.0)) and not plain([1, 2]) and not plain(None)


@pytest.mark.parametrize("chart_id", list(REGISTRY))
def test_chart_honours_the_contract(chart_id, tiny_runs):
    entry = REGISTRY[chart_id]
    charts = module(entry.scene, "charts")
    chart = build(chart_id, tiny_runs(entry.scene))

    assert chart.title == charts.CHARTS[chart_id] == entry.title
    assert entry.page == charts.PAGE

    models = document(chart).models
    # Bokeh's own contour lines separate their pieces with NaN: those sources are Bokeh's, not the chart's
    contours = {r.data_source.id for m in models if isinstance(m, ContourRenderer)
                for r in (m.fill_renderer, m.line_renderer)}
    for source in (m for m in models if isinstance(m, ColumnDataSource) and m.id not in contours):
        for column, values in source.data.items():
            assert finite_numbers(values), f"{chart_id}: column {column!r} holds NaN or infinity"

    # the callbacks Player.bind made end by handing the frame's readout to the player
    for render in (m for m in models if isinstance(m, CustomJS) and "ExplainersPlayer.rendered(" in m.code):
        unbound = free_names(render.code) - set(render.args)
        assert not unbound, f"{chart_id}: its render script reads {sorted(unbound)}, which bind was not given"


def test_the_free_name_reader_sees_reads_and_skips_declarations_keys_and_properties():
    code = """
    const a = source.data.x, [b, c] = pair;
    const d = { key: a + b, c };  // comment: ignored
    const e = list.map((item, i) => item * i + `${late}`);
    for (let k = 0; k < n; k++) status.text = "a string: " + e[k];
    return [["label", Math.max(d.key, hidden ? shown : 0)]];
    """
    assert free_names(code) == {"source", "pair", "list", "late", "n", "status", "hidden", "shown"}


def test_the_books_rebuild_fingerprint_follows_every_scenes_code(tmp_path, monkeypatch):
    """The registry imports its scenes by name, so no import statement leads to them: the fingerprint that
    makes a rebuild re-run the chapters must still change with any of their files."""
    from explainers import book_extension

    copy = tmp_path / "explainers"
    shutil.copytree(book_extension.HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(book_extension, "HERE", copy)
    before = book_extension.library_fingerprint()
    for scene in SCENES:
        for name in ("train.py", "charts.py", "facts.py"):
            with open(copy / scene / name, "a") as edited:
                edited.write("\n# an edit\n")
            after = book_extension.library_fingerprint()
            assert after != before, f"editing {scene}/{name} leaves the rebuild fingerprint unchanged"
            before = after


def test_an_unknown_chart_id_is_refused_with_the_list_of_ids():
    with pytest.raises(KeyError, match="one-neuron"):
        build("no-such-chart")
