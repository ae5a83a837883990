"""The CartPole charts and the chapter's numbers: episodes hold their end state, and the text says only
what the run did."""
import math

import numpy as np
import pytest

from explainers.cartpole.charts import recorded_episodes
from explainers.cartpole.facts import checkpoint_table, facts, outcome
from explainers.cartpole.runs import runs, tiny_config
from explainers.cartpole.words import episode_end


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXPLAINERS_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def solved(cache):
    return runs()  # the book's run: a few seconds here


@pytest.fixture(scope="module")
def unsolved(cache):
    return runs(tiny_config())  # unsolved on purpose: about a second


def test_frames_past_an_episode_end_show_its_final_state(solved):
    columns = recorded_episodes(solved)
    assert len(columns["t"]) == solved.eval_length.max() + 1
    for c, n in enumerate(solved.eval_length):
        np.testing.assert_array_equal(columns[f"x{c}"][: n + 1], solved.eval_x[c, : n + 1])
        np.testing.assert_array_equal(columns[f"theta{c}"][: n + 1], solved.eval_theta[c, : n + 1])
        assert np.all(columns[f"x{c}"][n:] == solved.eval_x[c, n])  # the end state, held
        assert np.all(columns[f"theta{c}"][n:] == solved.eval_theta[c, n])
        np.testing.assert_array_equal(columns[f"theta_dot{c}"][: n + 1], solved.eval_theta_dot[c, : n + 1])
        assert np.all(columns[f"theta_dot{c}"][n:] == solved.eval_theta_dot[c, n])
        assert np.all(columns[f"action{c}"][n:] == -1)  # no action after the end
        np.testing.assert_array_equal(columns[f"action{c}"][:n], solved.eval_action[c, :n])


def test_episode_end_names_the_limit_the_last_state_passed(solved):
    for c, n in enumerate(solved.eval_length):
        reason = episode_end(solved, c)
        if n == solved.max_episode_steps:
            assert "time limit" in reason
        else:
            assert ("pole fell" in reason) == (abs(solved.eval_theta[c, n]) > solved.theta_threshold_radians)
            assert ("cart left" in reason) == (abs(solved.eval_x[c, n]) > solved.x_threshold)


def test_solved_run_is_reported_with_its_own_numbers(solved):
    text = outcome(solved)
    assert "**solved**" in text and f"episode {solved.episodes_to_solve}" in text
    numbers = facts(solved)
    assert numbers["theta_limit_deg"] == pytest.approx(math.degrees(solved.theta_threshold_radians))
    assert numbers["solve_threshold"] == 475 and numbers["last_checkpoint"] == "solved"
    assert f"{solved.n_episodes} training episodes" in numbers["run_where"]


def test_unsolved_run_says_so_and_claims_no_solve(unsolved):
    text = outcome(unsolved)
    assert "did **not** solve" in text and "**solved**" not in text
    numbers = facts(unsolved)
    assert numbers["last_checkpoint"] == "final"
    assert "the last one (**final**)" in numbers["checkpoint_story"]
    assert "<td>final</td>" in checkpoint_table(unsolved).text

