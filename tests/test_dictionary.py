"""The sparse dictionary on drawing patches: the torch trainer, and its agreement with the browser's JS."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from explainers.unmixer import train as sae
from explainers.unmixer.charts import tradeoff
from explainers.unmixer.runs import Dictionary
from explainers.unmixer.drawings import DRAWINGS, SIZE, _grid, _render, _stroke, drawing
from explainers.unmixer.patches import FLAT_STD, extract_patches
from explainers.unmixer.train import DictionaryConfig, train_on_drawing
from explainers.unmixer.widget import draw_train_html

JS = Path(sae.__file__).with_name("dictionary.js")
CPU = torch.device("cpu")

# Stated tolerances for "the browser computes what torch computes" (float32 in both; measured ~1e-5
# for the atoms and ~1e-6 for the losses after 50 steps).
ATOM_TOLERANCE = 1e-3  # max abs difference of any atom pixel (atoms have length ~0.1)
LOSS_TOLERANCE = 1e-3  # relative difference of each step's loss

# Over the widget's full run the rounding differences grow (dictionary.py's docstring says why): single
# atoms may end up different, and what holds is what the reader reads. Stated bounds, after 500 steps
# (the largest differences measured over 30 random-stroke drawings in brackets):
FULL_RUN = {
    "explained_variance": 0.01,  # absolute (0.005)
    "mse": 0.03,  # relative (0.016)
    "l0": 0.25,  # atoms per patch (0.15)
    "dead": 1,  # atoms (0: always the same count)
    "batch_loss": 0.01,  # relative, every step along the way (0.003)
}


@pytest.fixture(autouse=True)
def fresh_cache(tmp_cache):
    """Every run in these tests really trains (conftest's empty cache)."""


def dot(radius=3.0):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    return (np.hypot(xx - 64, yy - 64) <= radius).astype(np.float32)


def random_strokes(seed: int) -> np.ndarray:
    """A drawing that is not built in: 3 to 8 pen strokes, each a random walk of 3 to 7 points."""
    rng = np.random.default_rng(seed)
    y, x = _grid()
    mask = np.zeros(x.shape, bool)
    for _ in range(rng.integers(3, 9)):
        points = [rng.uniform(10, SIZE - 10, 2)]
        for _ in range(rng.integers(2, 7)):
            points.append(np.clip(points[-1] + rng.normal(0, 25, 2), 4, SIZE - 4))
        mask |= _stroke(y, x, [tuple(p) for p in points])
    return _render(mask)


def mulberry32_reference(seed, count):
    """A line-by-line transcription of the JS generator, one draw at a time."""
    state, out = seed & 0xFFFFFFFF, []
    for _ in range(count):
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        out.append(((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296)
    return np.array(out)


# --- data ----------------------------------------------------------------------------------------

def test_vectorised_generator_draws_the_same_stream_as_the_js_algorithm():
    for seed in (0, 1, 2**32 - 1, 123456789):
        expected = mulberry32_reference(seed, 300)
        np.testing.assert_array_equal(sae.mulberry32(seed, 0, 300), expected)
        np.testing.assert_array_equal(sae.mulberry32(seed, 100, 200), expected[100:])


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_builtin_drawings_are_128_square_ink_with_enough_edges(name):
    ink = drawing(name)
    assert ink.shape == (SIZE, SIZE) and ink.dtype == np.float32
    assert 0 <= ink.min() and ink.max() <= 1 and 0.02 < ink.mean() < 0.5
    assert extract_patches(ink).status == "ok"


def test_patches_are_mean_removed_unit_scaled_and_never_flat():
    data = extract_patches(drawing("house"))
    x = data.patches.astype(np.float64)
    assert x.shape[1] == 64 and x.dtype == np.float64 and data.patches.dtype == np.float32
    np.testing.assert_allclose(x.mean(axis=1), 0, atol=1e-5)
    assert abs(np.sqrt((x ** 2).mean()) - 1) < 1e-5
    assert (x.std(axis=1) * data.scale >= FLAT_STD * 0.999).all()


@pytest.mark.parametrize("ink, status", [
    (np.zeros((SIZE, SIZE)), "empty"),
    (np.ones((SIZE, SIZE)), "filled"),  # the border-repeating blur keeps a full canvas flat
    (dot(), "too-little"),
])
def test_empty_filled_and_dot_drawings_are_refused_not_trained(ink, status):
    assert extract_patches(ink).status == status
    with pytest.raises(ValueError, match=status):
        train_on_drawing(ink, DictionaryConfig(steps=5), device=CPU)


# --- training ------------------------------------------------------------------------------------

def test_timeline_holds_every_documented_array_with_its_shape_and_dtype():
    config = DictionaryConfig(steps=40, checkpoint_every=10)
    run = sae.train_dictionary(config)
    frames = 5  # steps 0, 10, 20, 30, 40
    expected = {
        "step": ((frames,), np.int32), "atoms": ((frames, 64, 64), np.uint8),
        "atom_peak": ((frames, 64), np.float32), "atom_norm": ((frames, 64), np.float32),
        "firing_frequency": ((frames, 64), np.float32),
        "loss": ((frames,), np.float32), "mse": ((frames,), np.float32),
        "explained_variance": ((frames,), np.float32), "l0": ((frames,), np.float32),
        "dead": ((frames,), np.int32), "edge_likeness": ((frames, 64), np.float32),
    }
    assert set(run.frames) == set(expected)
    for name, (shape, dtype) in expected.items():
        assert run[name].shape == shape and run[name].dtype == dtype, name
    fixed = {"drawing": ((SIZE, SIZE), np.uint8), "blurred": ((SIZE, SIZE), np.uint8),
             "reconstruction": ((SIZE, SIZE), np.uint8), "train_loss": ((40,), np.float32),
             "final_atoms": ((64, 64), np.float32)}
    assert {k: (v.shape, v.dtype) for k, v in run.fixed.items()} == fixed
    # the last frame's bytes decode to the final float32 atoms, within half a quantisation step
    decoded = sae.dequantise_atoms(run["atoms"][-1], run["atom_peak"][-1])
    assert np.all(np.abs(decoded - run["final_atoms"]) <= run["atom_peak"][-1][:, None] / 255 + 1e-7)
    np.testing.assert_allclose(run["atom_norm"][-1], np.linalg.norm(run["final_atoms"], axis=1), rtol=1e-5)
    np.testing.assert_array_equal(run["step"], [0, 10, 20, 30, 40])
    assert {"config", "engine", "device", "n_patches", "patch_scale", "train_s", "steps_per_s",
            "wall_time_s", "cache_key", "cache"} <= set(run.meta)
    assert run.meta["config"]["steps"] == 40 and run.meta["device"]["device"] in ("cpu", "cuda")
    assert all(np.isfinite(run[k]).all() for k in run.frames)


def test_second_identical_run_is_read_from_the_cache():
    config = DictionaryConfig(steps=20, checkpoint_every=10)
    first, second = sae.train_dictionary(config), sae.train_dictionary(config)
    assert (first.meta["cache"], second.meta["cache"]) == ("miss", "hit")
    np.testing.assert_array_equal(first["atoms"], second["atoms"])


def test_training_restores_the_callers_torch_thread_count():
    before = torch.get_num_threads()
    train_on_drawing(drawing("star"), DictionaryConfig(steps=3), device=CPU)
    assert torch.get_num_threads() == before


def test_moderate_sparsity_learns_edge_detectors_and_zero_sparsity_does_not():
    sparse = train_on_drawing(drawing("house"), DictionaryConfig(sparsity=0.1, steps=300), device=CPU)
    dense = train_on_drawing(drawing("house"), DictionaryConfig(sparsity=0.0, steps=300), device=CPU)
    assert np.median(sparse["edge_likeness"][0]) < 0.4  # noise at the start
    assert np.median(sparse["edge_likeness"][-1]) > 0.9
    assert np.median(dense["edge_likeness"][-1]) < 0.75  # blends, not edges
    assert sparse["l0"][-1] < 8 < dense["l0"][-1]
    assert sparse["explained_variance"][-1] > 0.6 and dense["explained_variance"][-1] > 0.95


def test_strong_sparsity_kills_most_atoms():
    run = train_on_drawing(drawing("house"), DictionaryConfig(sparsity=0.3, steps=300), device=CPU)
    assert run["dead"][-1] >= 48
    assert np.isfinite(run["firing_frequency"]).all()


def test_reconstruction_rebuilds_the_blurred_drawing():
    run = train_on_drawing(drawing("circle_square"), DictionaryConfig(sparsity=0.01, steps=300), device=CPU)
    rebuilt, blurred = run["reconstruction"] / 255, run["blurred"] / 255
    assert np.mean((rebuilt - blurred) ** 2) < 0.05 * np.var(blurred)


def test_tradeoff_reads_explained_variance_l0_and_dead_fraction_across_sparsity():
    runs = sae.sparsity_sweep((0.0, 0.03, 0.3), drawing="house", steps=150, checkpoint_every=50)
    curve = tradeoff([Dictionary.from_timeline(t) for t in runs])
    np.testing.assert_allclose(curve["sparsity"], [0.0, 0.03, 0.3])
    assert (np.diff(curve["l0"]) < 0).all() and (np.diff(curve["explained_variance"]) < 0).all()
    assert curve["dead_fraction"][0] == 0 and curve["dead_fraction"][-1] > 0.5
    assert all(v.dtype == np.float32 for v in curve.values())


def test_edge_likeness_tells_edges_from_noise():
    edge = np.tile(np.r_[np.zeros(4), np.ones(4)], (8, 1))
    noise = np.random.default_rng(0).uniform(-1, 1, (20, 64))
    scores = sae.edge_likeness(np.vstack([edge.ravel(), edge.T.ravel(), noise]))
    assert (scores[:2] > 0.99).all() and np.median(scores[2:]) < 0.4


def test_widget_html_inlines_its_assets_and_validates_the_dom_id():
    html = draw_train_html("draw-1", drawing="star", sparsity=0.03, steps=100)
    assert html.count("<script>") == 3 and "DrawTrain.mount(\"draw-1\"" in html
    assert "http://" not in html and "https://" not in html and "src=" not in html
    assert '"sparsity": 0.03' in html and '"steps": 100' in html
    assert "\"drawing\"" not in draw_train_html("draw-2", drawing=None).rsplit("DrawTrain.mount(", 1)[1]
    with pytest.raises(ValueError):
        draw_train_html('x"><script>')


# --- the agreement test: torch and the browser's JS ---------------------------------------------

@pytest.fixture(scope="module")
def js_page(browser):
    """A blank page in headless Chromium (conftest's browser) with dictionary.js loaded."""
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(path=str(JS))
    yield page
    page.close()
    assert not errors


TRAIN_IN_JS = """([ink, options, steps]) => {
    if (options.atoms) options.atoms = Float32Array.from(options.atoms);
    if (options.batchIndices) options.batchIndices = Int32Array.from(options.batchIndices);
    const t = new DictionaryTrainer(Float32Array.from(ink), options);
    const patches = Array.from(t.data.patches), initial = Array.from(t.atoms());
    const losses = [];
    for (let i = 0; i < steps; i++) losses.push(t.step());
    const stats = t.evaluate();
    return {patches, initial, losses, atoms: Array.from(t.atoms()), status: t.status,
            stats: Object.assign(stats, {firingFrequency: Array.from(stats.firingFrequency)}),
            reconstruction: Array.from(t.reconstruction())};
}"""


def assert_engines_agree(js, run, steps):
    atoms_diff = np.abs(np.array(js["atoms"]).reshape(64, 64) - run["final_atoms"]).max()
    loss_diff = np.max(np.abs(np.array(js["losses"]) - run["train_loss"]) / np.abs(run["train_loss"]))
    assert len(js["losses"]) == steps
    assert atoms_diff < ATOM_TOLERANCE, atoms_diff
    assert loss_diff < LOSS_TOLERANCE, loss_diff
    stats = js["stats"]
    assert abs(stats["mse"] - run["mse"][-1]) / run["mse"][-1] < LOSS_TOLERANCE
    assert abs(stats["explainedVariance"] - run["explained_variance"][-1]) < 1e-3
    assert abs(stats["l0"] - run["l0"][-1]) < 0.05 and stats["dead"] == run["dead"][-1]
    np.testing.assert_allclose(stats["firingFrequency"], run["firing_frequency"][-1], atol=0.01)
    js_bytes = sae.ink_bytes(np.array(js["reconstruction"]).reshape(SIZE, SIZE))
    assert np.abs(js_bytes.astype(int) - run["reconstruction"]).max() <= 1  # at most a rounding apart


@pytest.mark.parametrize("name", ["house", "strokes"])
def test_browser_and_torch_agree_after_50_steps_from_the_same_seed(js_page, name):
    ink, steps = drawing(name), 50
    config = DictionaryConfig(drawing=name, steps=steps, checkpoint_every=steps, seed=3)
    run = train_on_drawing(ink, config, device=CPU)
    js = js_page.evaluate(TRAIN_IN_JS, [ink.ravel().tolist(), {"sparsity": config.sparsity, "seed": 3}, steps])
    data = extract_patches(ink, config.stride)
    # same patches and same initial atoms, bit for bit: both engines start from the same place
    np.testing.assert_array_equal(np.array(js["patches"], np.float32), data.patches.ravel())
    np.testing.assert_array_equal(np.array(js["initial"], np.float32).reshape(64, 64),
                                  sae.initial_atoms(64, 64, 3, config.init_norm))
    assert_engines_agree(js, run, steps)


def test_browser_and_torch_agree_from_given_weights_and_batches(js_page):
    ink, steps = drawing("star"), 50
    config = DictionaryConfig(drawing="star", sparsity=0.03, steps=steps, checkpoint_every=steps)
    n_patches = len(extract_patches(ink).patches)
    rng = np.random.default_rng(1)
    atoms = (rng.normal(size=(64, 64)) * 0.02).astype(np.float32)
    indices = rng.integers(0, n_patches, size=(steps, config.batch_size))
    run = train_on_drawing(ink, config, device=CPU, atoms=atoms, indices=indices)
    options = {"sparsity": config.sparsity, "atoms": atoms.ravel().tolist(),
               "batchIndices": indices.ravel().tolist()}
    js = js_page.evaluate(TRAIN_IN_JS, [ink.ravel().tolist(), options, steps])
    assert_engines_agree(js, run, steps)


@pytest.mark.parametrize("seed", [101, 102, 103, 104])
def test_browser_and_torch_agree_on_what_the_reader_sees_after_the_widgets_full_run(js_page, seed):
    ink, config = random_strokes(seed), DictionaryConfig(drawing="random strokes")  # the widget's settings
    assert config.steps == 500
    run = train_on_drawing(ink, config, device=CPU)
    js = js_page.evaluate(TRAIN_IN_JS, [ink.ravel().tolist(), {}, config.steps])
    stats, last = js["stats"], -1
    assert len(js["losses"]) == config.steps
    assert np.max(np.abs(np.array(js["losses"]) - run["train_loss"]) / run["train_loss"]) < FULL_RUN["batch_loss"]
    assert abs(stats["explainedVariance"] - run["explained_variance"][last]) < FULL_RUN["explained_variance"]
    assert abs(stats["mse"] - run["mse"][last]) / run["mse"][last] < FULL_RUN["mse"]
    assert abs(stats["l0"] - run["l0"][last]) < FULL_RUN["l0"]
    assert abs(stats["dead"] - run["dead"][last]) <= FULL_RUN["dead"]


def test_browser_defaults_are_the_books_config(js_page):
    js = js_page.evaluate("() => Object.assign({}, DictionaryTrainer.DEFAULTS)")
    config = DictionaryConfig()
    assert js == {"sparsity": config.sparsity, "nAtoms": config.n_atoms, "steps": config.steps,
                  "batchSize": config.batch_size, "lr": config.lr, "seed": config.seed,
                  "stride": config.stride, "initNorm": config.init_norm}


@pytest.mark.parametrize("ink, status", [
    (np.zeros((SIZE, SIZE)), "empty"), (np.ones((SIZE, SIZE)), "filled"), (dot(), "too-little")])
def test_browser_and_python_refuse_the_same_drawings(js_page, ink, status):
    got = js_page.evaluate("(ink) => new DictionaryTrainer(Float32Array.from(ink)).status",
                           np.asarray(ink, np.float32).ravel().tolist())
    assert got == extract_patches(ink).status == status


def test_mosaic_draws_each_atom_in_64_grey_levels_and_a_dead_one_black():
    from explainers.unmixer.charts import GREY_STEP, SIDE, mosaic

    atoms = np.stack([np.linspace(0, 255, SIDE * SIDE), np.full(SIDE * SIDE, 200.0)])
    image = mosaic(atoms, firing=np.array([1.0, 0.0]))  # the second atom never fires
    assert image.dtype == np.uint8 and not (image % GREY_STEP).any()
    assert len(np.unique(image)) > 32  # the ramp keeps its steps
    first, second = image[::-1][1:1 + SIDE, 1:1 + SIDE], image[::-1][1:1 + SIDE, 2 + SIDE:2 + 2 * SIDE]
    assert np.abs(first.astype(int) - atoms[0].reshape(SIDE, SIDE)).max() < GREY_STEP  # white is 252
    assert not second.any()
