"""The CartPole charts and the chapter's numbers: they build, ship no NaN, and say only what the run did."""
import math

import numpy as np
import pytest
from bokeh.models import ColumnDataSource

from explainers.cartpole import CartPoleConfig, train
from explainers.cartpole.chart import (AGENT_ID, REWARDS_ID, agent_at_work, episode_end, recorded_episodes,
                                       reward_curve)
from explainers.cartpole.report import book_chart, checkpoint_table, facts, outcome
from explainers.charts import REGISTRY
from explainers.embed import document, page_html

TINY = CartPoleConfig(max_episodes=24, episodes_per_update=8)  # unsolved on purpose: about a second


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXPLAINERS_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def solved(cache):
    return train(CartPoleConfig())  # the book's run: a few seconds here


@pytest.fixture(scope="module")
def unsolved(cache):
    return train(TINY)


def all_numbers(value):
    """Every number a data source column holds, flattened (columns may hold lists of arrays)."""
    if isinstance(value, np.ndarray):
        return [value.astype(np.float64).ravel()] if value.dtype.kind in "fiu" else []
    if isinstance(value, (list, tuple)):
        return [part for item in value for part in all_numbers(item)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [np.array([value], dtype=np.float64)]
    return []


def sources(chart):
    return [m for m in document(chart).models if isinstance(m, ColumnDataSource)]


@pytest.mark.parametrize("which", ["solved", "unsolved"])
def test_charts_build_and_no_data_source_holds_nan_or_inf(request, which):
    timeline = request.getfixturevalue(which)
    for build, chart_id in ((reward_curve, REWARDS_ID), (agent_at_work, AGENT_ID)):
        assert f'id="chart-{chart_id}"' in page_html(build(timeline))
        for source in sources(build(timeline)):  # a fresh chart: a layout joins one document only
            for name, column in source.data.items():
                for numbers in all_numbers(column):
                    assert np.all(np.isfinite(numbers)), f"{chart_id}: column {name!r} is not finite"


def test_frames_past_an_episode_end_show_its_final_state(solved):
    columns = recorded_episodes(solved)
    assert len(columns["t"]) == solved["eval_length"].max() + 1
    for c, n in enumerate(solved["eval_length"]):
        np.testing.assert_array_equal(columns[f"x{c}"][: n + 1], solved["eval_x"][c, : n + 1])
        np.testing.assert_array_equal(columns[f"theta{c}"][: n + 1], solved["eval_theta"][c, : n + 1])
        assert np.all(columns[f"x{c}"][n:] == solved["eval_x"][c, n])  # the end state, held
        assert np.all(columns[f"theta{c}"][n:] == solved["eval_theta"][c, n])
        np.testing.assert_array_equal(columns[f"theta_dot{c}"][: n + 1], solved["eval_theta_dot"][c, : n + 1])
        assert np.all(columns[f"theta_dot{c}"][n:] == solved["eval_theta_dot"][c, n])
        assert np.all(columns[f"action{c}"][n:] == -1)  # no action after the end
        np.testing.assert_array_equal(columns[f"action{c}"][:n], solved["eval_action"][c, :n])


def test_episode_end_names_the_limit_the_last_state_passed(solved):
    limits = solved.meta["limits"]
    for c, n in enumerate(solved["eval_length"]):
        reason = episode_end(solved, c)
        if n == limits["max_episode_steps"]:
            assert "time limit" in reason
        else:
            assert ("pole fell" in reason) == (abs(solved["eval_theta"][c, n]) > limits["theta_threshold_radians"])
            assert ("cart left" in reason) == (abs(solved["eval_x"][c, n]) > limits["x_threshold"])


def test_solved_run_is_reported_with_its_own_numbers(solved):
    text = outcome(solved)
    assert "**solved**" in text and f"episode {solved.meta['episodes_to_solve']}" in text
    numbers = facts(solved)
    assert numbers["theta_limit_deg"] == pytest.approx(math.degrees(solved.meta["limits"]["theta_threshold_radians"]))
    assert numbers["solve_threshold"] == 475 and numbers["last_checkpoint"] == "solved"
    assert f"{solved.meta['n_episodes']} training episodes" in numbers["run_where"]


def test_unsolved_run_says_so_and_claims_no_solve(unsolved):
    text = outcome(unsolved)
    assert "did **not** solve" in text and "**solved**" not in text
    numbers = facts(unsolved)
    assert numbers["last_checkpoint"] == "final"
    assert "the last one (**final**)" in numbers["checkpoint_story"]
    assert "<td>final</td>" in checkpoint_table(unsolved).text


def test_chart_ids_are_registered_for_slides(cache):
    for chart_id in (REWARDS_ID, AGENT_ID):
        assert REGISTRY[chart_id].page == "learning-from-reward"
        assert book_chart(chart_id).id == chart_id
