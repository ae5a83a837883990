"""The scene contract, checked for every scene and every chart the registry lists (in the spirit of
scikit-learn's ``check_estimator``): the flow holds (chart code never imports torch, training code never
imports Bokeh), and each chart builds from tiny runs with its registered id and title, finite data, and
every name its render script reads passed to ``bind``."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bokeh.models import ColumnDataSource, ContourRenderer, CustomJS

from explainers.charts import REGISTRY, SCENES, build, module
from explainers.embed import document
from js_names import free_names

BOOK = Path(__file__).resolve().parents[1] / "book"
CONTRACT_CHARTS = [chart_id for chart_id, entry in REGISTRY.items() if entry.scene in SCENES]


def imports_in_fresh_python(module_name: str) -> set[str]:
    """The top-level packages loaded by importing ``module_name`` alone, in a new interpreter."""
    code = f"import sys, {module_name}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("module_name", ["explainers.charts", *(f"explainers.{s}.charts" for s in SCENES)])
def test_chart_code_never_imports_torch(module_name):
    assert "torch" not in imports_in_fresh_python(module_name)


@pytest.mark.parametrize("scene", SCENES)
def test_training_code_never_imports_bokeh(scene):
    assert "bokeh" not in imports_in_fresh_python(f"explainers.{scene}.train")


@pytest.mark.parametrize("scene", SCENES)
def test_every_scene_has_the_three_files_and_its_chapter(scene):
    charts = module(scene, "charts")
    train = module(scene, "train")
    assert callable(train.runs) and callable(train.tiny_config) and callable(module(scene, "facts").facts)
    assert callable(charts.chart) and charts.CHARTS
    assert (BOOK / f"{charts.PAGE}.md").exists()


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Each scene's runs at its tiny settings, trained once into a fresh cache."""
    found = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPLAINERS_CACHE", str(tmp_path_factory.mktemp("cache")))

        def runs(scene):
            if scene not in found:
                train = module(scene, "train")
                found[scene] = train.runs(train.tiny_config())
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




@pytest.mark.parametrize("chart_id", CONTRACT_CHARTS)
def test_chart_honours_the_contract(chart_id, tiny_runs):
    entry = REGISTRY[chart_id]
    charts = module(entry.scene, "charts")
    chart = build(chart_id, tiny_runs(entry.scene))

    assert chart.id == chart_id
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
