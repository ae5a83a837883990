"""The superposition charts and the chapter's glue, built from the chapter's real runs (trained once per
session into a fresh cache)."""
import numpy as np
import pytest
from bokeh.models import ColumnDataSource, CustomJS

from explainers.superposition.runs import runs as chapter_runs
from explainers.superposition.charts import (IMPORTANCE_RAMP, importance_colours, phase_chart,
                                             sae_chart, seed_choice, sparsity_choice, star_chart)
from explainers.superposition.facts import facts, toy_table


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPLAINERS_CACHE", str(tmp_path_factory.mktemp("cache")))
        return chapter_runs()


@pytest.fixture(scope="module")
def charts(runs):
    return {"star": star_chart(runs.toy), "phases": phase_chart(runs.phase),
            "sae": sae_chart(runs.sae, runs.toy.timeline["importance"])}


def _sources(chart):
    return [m for m in chart.layout.references() if isinstance(m, ColumnDataSource)]


def test_arrow_colour_follows_importance(runs):
    importance = runs.toy.timeline["importance"]
    colours = importance_colours(importance)
    ramp = list(IMPORTANCE_RAMP)
    positions = [ramp.index(c) for c in colours]
    # the most important feature takes the ramp's first (darkest) colour, and less important ones
    # move along the ramp in order of importance
    order = np.argsort(-importance, kind="stable")
    assert positions[order[0]] == 0 and positions[order[-1]] == len(ramp) - 1
    assert np.all(np.diff(np.array(positions)[order]) > 0)
    # shuffled importances give the same colour to the same importance
    shuffled = importance[[3, 0, 4, 1, 2]]
    assert importance_colours(shuffled) == [colours[i] for i in (3, 0, 4, 1, 2)]


def test_star_chart_arrows_carry_the_importance_colours_and_labels(runs, charts):
    arrows = next(s for s in _sources(charts["star"]) if "x1" in s.data and "colour" in s.data)
    assert arrows.data["colour"] == importance_colours(runs.toy.timeline["importance"])
    assert arrows.data["text"] == ["x1", "x2", "x3", "x4", "x5"]  # labels, not colour alone


def test_star_frames_source_holds_every_shown_frame_run_and_feature(runs, charts):
    toy = runs.toy.timeline.thinned(100)  # the chart shows (at most) 100 frames of the run
    assert toy.n_frames == 100 and toy["step"][-1] == runs.toy.timeline["step"][-1]
    frames = next(s for s in _sources(charts["star"]) if "shared" in s.data and "y" in s.data)
    F, K, N, _ = toy["W_columns"].shape
    assert len(frames.data["x"]) == F * K * N
    f, k, i = F - 1, K - 1, 2  # the render script's index: ((frame·K) + k)·N + i
    # the page holds int16 and one scale per column (figure.packed); the render script multiplies back
    scales = next(m.args["scales"] for m in charts["star"].layout.references()
                  if isinstance(m, CustomJS) and "scales" in m.args)
    assert frames.data["x"].dtype == np.int16
    assert frames.data["x"][(f * K + k) * N + i] * scales["x"] == pytest.approx(toy["W_columns"][f, k, i, 0], abs=scales["x"])
    assert frames.data["norm"][(f * K + k) * N + i] * scales["norm"] == pytest.approx(toy["feature_norm"][f, k, i],
                                                                                        abs=scales["norm"])


def test_packed_floats_come_back_within_half_a_step_and_keep_their_sign():
    from explainers.figure import packed

    values = np.array([-2.5, -1e-3, 0.0, 1e-3, 0.7, 2.5])
    ints, scale = packed(values)
    assert ints.dtype == np.int16 and ints.max() == 32767 and ints.min() == -32767
    assert np.abs(ints * scale - values).max() <= scale / 2 + 1e-12
    assert packed(np.zeros(3))[0].tolist() == [0, 0, 0]


def test_star_player_opens_on_the_sparsest_run(runs, charts):
    choice = sparsity_choice(runs.toy)
    assert choice.values[choice.default] == "0.99"
    assert all("kept" in label for label in choice.labels)


def test_represented_norm_is_the_runs_config_field(runs):
    assert runs.toy.represented_norm == runs.toy.timeline.meta["config"]["represented_norm"] == 0.5
    assert runs.phase.represented_norm == runs.toy.represented_norm
    assert "0.5" in runs.toy.represented_rule and "0.5" in runs.phase.phase_rule


def test_sparse_model_ends_with_negative_biases(runs):
    """The chapter says the bias helps cut off small leaks at the sparsest setting."""
    toy = runs.toy.timeline
    k = int(np.argmin(toy["feature_probability"]))
    assert np.all(toy["b"][-1, k] < 0)


def test_sae_chart_hides_padding_latents(runs, charts):
    sae = runs.sae.timeline
    callbacks = [m for m in charts["sae"].layout.references() if isinstance(m, CustomJS) and "exists" in m.args]
    exists = callbacks[0].args["exists"]
    assert exists == sae["latent_exists"].astype(int).tolist()
    assert [sum(row) for row in exists] == [int(d) for d in sae["d_sae"]]


def test_sae_chart_places_each_latent_by_its_angle_since_every_decoder_column_has_unit_length(runs, charts):
    sae = runs.sae.timeline.thinned(20)
    decoder, exists = sae["decoder"], np.asarray(sae["latent_exists"], dtype=bool)  # (F, R, S, L, 2), (R, L)
    lengths = np.linalg.norm(decoder, axis=-1)  # (F, R, S, L)
    assert np.allclose(lengths[np.broadcast_to(exists[None, :, None, :], lengths.shape)], 1, atol=1e-4)
    frames = next(s for s in _sources(charts["sae"]) if {"angle", "dead", "freq"} <= set(s.data))
    scales = next(m.args["scales"] for m in charts["sae"].layout.references()
                  if isinstance(m, CustomJS) and "scales" in m.args)
    F, R, S, L, _ = decoder.shape
    f, r, s_, l = F - 1, 0, 1, 2  # the render script's index: ((f·R + r)·S + s)·L + l
    angle = frames.data["angle"][((f * R + r) * S + s_) * L + l] * scales["angle"]
    assert np.cos(angle) == pytest.approx(decoder[f, r, s_, l, 0], abs=1e-3)
    assert np.sin(angle) == pytest.approx(decoder[f, r, s_, l, 1], abs=1e-3)


def test_sae_chart_opens_on_the_shown_seed(runs, charts):
    sae = runs.sae
    assert seed_choice(sae).default == int(sae.timeline["shown_seed_index"])


def test_phase_chart_gives_each_phase_a_shape_and_a_name(charts):
    cells = next(s for s in _sources(charts["phases"]) if "phase" in s.data)
    pairs = set(zip(cells.data["phase"], cells.data["marker"], cells.data["colour"]))
    assert len({p for p, _, _ in pairs}) == len(pairs)  # one style per phase
    assert len({m for _, m, _ in pairs}) == len(pairs)  # and the shapes differ, not only the colours


def test_glued_facts_are_plain_and_complete(runs):
    glued = facts(runs)
    for name, value in glued.items():
        assert isinstance(value, (str, int)), name
        assert "nan" not in str(value).lower(), name
    assert glued["toy_kept"] == "2, 4, 5, 5, 5"
    assert glued["dense_kept"] == 2 and glued["sparse_kept"] == 5
    assert glued["sparse_superposed"].startswith(str(len(runs.phase.timeline["relative_importance"])))
    assert "cpu" in glued["run_where"] or "cuda" in glued["run_where"]
    assert "<table" in toy_table(runs.toy)._repr_html_()



def test_sae_chart_draws_every_latent_with_one_spoke_and_one_mark_and_keeps_steady_legend_swatches(charts):
    """Alive and dead latents share one source and two renderers (each renderer a frame updates costs a
    data pass of its own); the legend names invisible one-row swatches in each kind's style instead."""
    from bokeh.models import GlyphRenderer, Legend

    from explainers.figure import SWATCH_TAG

    layout = charts["sae"].layout
    latents = next(s for s in _sources(charts["sae"]) if "mark_width" in s.data)
    drawing = [r for r in layout.select({"type": GlyphRenderer}) if r.data_source is latents]
    assert sorted(type(r.glyph).__name__ for r in drawing) == ["Scatter", "Segment"]
    assert all(r.level == "overlay" for r in drawing)
    items = {item.label.value: item for legend in layout.select({"type": Legend}) for item in legend.items}
    for label in ("alive latent (decoder column)", "dead latent"):
        (swatch,) = items[label].renderers
        assert SWATCH_TAG in swatch.tags and not swatch.visible
        assert len(swatch.data_source.data["x0"]) == 1
    assert items["dead latent"].visible is False  # until a frame has a dead latent (the render script)
