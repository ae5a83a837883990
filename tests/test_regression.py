import numpy as np
import pytest

from explainers import data
from explainers.regression.facts import outcome, overshoots
from explainers.regression.runs import RegressionRuns
from explainers.regression.train import RegressionConfig, closed_form, hessian, load_xy, mse_grid, regime, train


@pytest.fixture(scope="module")
def xy():
    x, y, _ = load_xy("MedInc")
    return x, y


def test_loader_gives_exactly_what_scikit_learn_documents():
    housing = data.california_housing()
    assert housing.data.shape == (20640, 8)
    assert list(housing.feature_names) == ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population",
                                          "AveOccup", "Latitude", "Longitude"]
    # the first block group as scikit-learn's own docs and every tutorial show it
    np.testing.assert_allclose(housing.data[0], [8.3252, 41.0, 6.984127, 1.02381, 322.0, 2.555556, 37.88, -122.23],
                               rtol=1e-5)
    assert housing.target[0] == pytest.approx(4.526)


def test_missing_local_copy_names_how_to_provide_the_data(monkeypatch, tmp_path):
    monkeypatch.setenv(data.CALIFORNIA_HOUSING_ENV, str(tmp_path / "nowhere.data.gz"))
    with pytest.raises(data.DataUnavailable, match=data.CALIFORNIA_HOUSING_ENV):
        data.california_housing()


def test_failed_download_names_how_to_provide_the_data(monkeypatch, tmp_cache):
    import sklearn.datasets

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.delenv(data.CALIFORNIA_HOUSING_ENV, raising=False)
    monkeypatch.setattr(sklearn.datasets, "fetch_california_housing", offline)
    with pytest.raises(data.DataUnavailable) as error:
        data.california_housing()
    assert data.CALIFORNIA_HOUSING_ENV in str(error.value) and "network is unreachable" in str(error.value)


def test_gradient_descent_ends_where_least_squares_does(tmp_cache, xy):
    run = train(RegressionConfig(learning_rate=0.45))
    w_star, b_star = closed_form(*xy)
    assert run.meta["final"]["w"] == pytest.approx(w_star, abs=1e-5)
    assert run.meta["final"]["b"] == pytest.approx(b_star, abs=1e-5)
    assert run.meta["final"]["loss"] == pytest.approx(run.meta["loss_star"], rel=1e-5)
    assert w_star == pytest.approx(np.corrcoef(*xy)[0, 1]), "for standardized data w* is the correlation"


def test_hessian_matches_the_curvature_of_the_loss(xy):
    x, y = xy
    h = 1e-2
    grid = mse_grid(x, y, np.array([-h, 0, h]), np.array([-h, 0, h]))
    d2w = (grid[1, 2] - 2 * grid[1, 1] + grid[1, 0]) / h**2
    d2b = (grid[2, 1] - 2 * grid[1, 1] + grid[0, 1]) / h**2
    np.testing.assert_allclose(np.diag(hessian(x)), [d2w, d2b], rtol=1e-4)


def test_thresholds_come_from_the_data(tmp_cache):
    meta = train(RegressionConfig(learning_rate=0.1, steps=2)).meta
    assert meta["lr_overshoot"] == pytest.approx(1 / meta["lambda_max"])
    assert meta["lr_diverge"] == pytest.approx(2 / meta["lambda_max"])
    assert regime(0.4, 2.0) == "converges" and regime(0.6, 2.0) == "overshoots" and regime(1.1, 2.0) == "diverges"


def test_overshooting_rate_crosses_the_optimum_and_still_converges(tmp_cache):
    runs = RegressionRuns.from_timelines([train(RegressionConfig(learning_rate=lr)) for lr in (0.1, 0.9)])
    slow, wobbly = runs.descents
    assert overshoots(slow, runs.w_star) == 0
    assert overshoots(wobbly, runs.w_star) > 10
    assert wobbly.diverged_at is None and "reached the minimum" in outcome(wobbly, runs)


def test_diverging_run_is_marked_and_stays_finite(tmp_cache):
    run = train(RegressionConfig(learning_rate=1.05))
    assert run.meta["regime"] == "diverges"
    k = run.meta["diverged_at"]
    assert k is not None and 0 < k < run.meta["config"]["steps"]
    for name in ("w", "b", "loss"):
        assert np.all(np.isfinite(run[name])), f"{name} must never carry NaN or Infinity to the chart"
    assert run.n_frames == run.meta["config"]["steps"] + 1
    assert run["loss"][k - 1] <= run.meta["config"]["diverge_factor"] * run["loss"][0]
    runs = RegressionRuns.from_timelines([run])
    assert f"diverged at step {k}" in outcome(runs.descents[0], runs)


def test_a_run_that_overflows_stops_before_the_overflow(tmp_cache):
    run = train(RegressionConfig(learning_rate=50.0, diverge_factor=1e30, steps=40))
    assert run.meta["diverged_at"] is not None
    assert np.all(np.isfinite(run["loss"])) and np.all(np.isfinite(run["w"]))


def test_each_run_records_where_it_ran(tmp_cache):
    run = train(RegressionConfig(steps=1)).meta["run"]
    assert run["device"] in ("cpu", "cuda") and run["torch"] and run["device_name"]


def test_step_of_one_over_lambda_max_lands_on_the_minimum_in_one_step(tmp_cache):
    # Standardized data: H = 2I, so η = 1/λmax = 0.5 is Newton's step and the first step is the answer.
    run = train(RegressionConfig(learning_rate=0.5, steps=3))
    assert regime(0.5, 2.0) == "one step" and run.meta["regime"] == "one step"
    assert run["w"][1] == pytest.approx(run.meta["w_star"], abs=1e-4)
    assert run["b"][1] == pytest.approx(run.meta["b_star"], abs=1e-4)
    assert run["loss"][0] - run.meta["loss_star"] > 1.0  # it started far away


def test_raw_income_bowl_is_badly_conditioned(tmp_cache):
    meta = train(RegressionConfig(learning_rate=0.1, steps=2)).meta
    assert meta["lambda_max"] / meta["lambda_min"] == pytest.approx(1.0)
    assert meta["raw"]["lambda_max"] / meta["raw"]["lambda_min"] > 50
