"""The CartPole training layer: the solved rule, reproducibility, and what the Timeline records."""
import numpy as np
import pytest
import torch

from explainers.cartpole.train import (CartPoleConfig, choose_checkpoints, moving_average, returns_to_go,
                                      solved_episode, train)

TINY = CartPoleConfig(max_episodes=24, episodes_per_update=8)  # 3 batches, 2 updates: about a second


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLAINERS_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXPLAINERS_CACHE", str(tmp_path_factory.mktemp("cache")))
        return train(TINY)


# --- the solved rule on made-up rewards -----------------------------------------------------------

def test_moving_average_averages_the_last_100_episodes():
    rewards = np.arange(1, 201)  # 1, 2, ..., 200
    average = moving_average(rewards)
    assert average[0] == 1 and average[1] == 1.5  # fewer than 100 so far: all of them
    assert average[99] == np.mean(np.arange(1, 101))
    assert average[199] == np.mean(np.arange(101, 201))
    assert len(average) == 200


def test_solved_needs_100_episodes_averaging_at_least_475():
    assert solved_episode([500] * 99) is None  # a perfect score, but not yet 100 episodes
    assert solved_episode([500] * 100) == 99
    # 5 zeros and 95 perfect episodes average exactly 475: solved at that episode, not later
    assert solved_episode([0] * 50 + [500] * 100) == 144
    assert solved_episode([474.99] * 300) is None
    assert solved_episode([475] * 100 + [0] * 50) == 99  # a later collapse does not undo it


def test_returns_to_go_discount_later_rewards():
    alive = np.array([[1.0], [1.0], [1.0], [0.0]])
    np.testing.assert_allclose(returns_to_go(alive, 0.5)[:, 0], [1.75, 1.5, 1.0, 0.0])


def test_checkpoints_are_the_first_updates_to_reach_each_level_in_order():
    picks = choose_checkpoints([10, 60, 300, 40, 250, 500].__getitem__, 6, [50, 200])
    assert [u for u, _ in picks] == [1, 2]
    picks = choose_checkpoints([300, 10, 60, 500].__getitem__, 4, [50, 200])
    assert [u for u, _ in picks] == [0, 0]  # the middle pick never comes before the early one


def test_checkpoints_fall_back_to_an_even_spread_when_a_level_is_never_reached():
    picks = choose_checkpoints([10, 20, 30, 40, 20, 10, 30].__getitem__, 7, [50, 200])
    assert [u for u, _ in picks] == [2, 4]
    assert all("never reached" in rule for _, rule in picks)


# --- real (tiny) training runs --------------------------------------------------------------------

def test_same_config_gives_the_same_curve(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLAINERS_CACHE", str(tmp_path / "another-cache"))
    again = train(TINY)
    assert again.meta["cache"] == "miss"  # trained again, not read back
    for name in [*tiny.frames, *tiny.fixed]:
        np.testing.assert_array_equal(tiny[name], again[name], err_msg=name)
    other_seed = train(CartPoleConfig(seed=1, max_episodes=24, episodes_per_update=8))
    assert not np.array_equal(tiny["reward"], other_seed["reward"])


def test_rebuild_reads_the_cache_instead_of_training(tmp_path):
    threads = torch.get_num_threads()
    first = train(TINY)
    assert torch.get_num_threads() == threads  # training's single thread is given back
    second = train(TINY)
    assert (first.meta["cache"], second.meta["cache"]) == ("miss", "hit")
    np.testing.assert_array_equal(first["reward"], second["reward"])


def test_unsolved_run_says_so_and_stops_at_max_episodes(tiny):
    assert tiny.n_frames == TINY.max_episodes
    assert tiny.meta["solved"] is False and tiny.meta["episodes_to_solve"] is None
    assert tiny.meta["checkpoints"] == ["untrained", "early", "middle", "final"]
    np.testing.assert_array_equal(tiny["episode"], np.arange(TINY.max_episodes))
    np.testing.assert_allclose(tiny["moving_average"], moving_average(tiny["reward"]), rtol=1e-6)
    assert tiny["reward"].min() >= 1 and tiny["reward"].max() <= 500


def test_policy_heatmap_is_a_probability_over_the_grid(tiny):
    n = TINY.grid_size
    assert tiny["p_right"].shape == (4, n, n)
    assert tiny["grid_theta"].shape == tiny["grid_theta_dot"].shape == (n,)
    assert np.all((tiny["p_right"] >= 0) & (tiny["p_right"] <= 1))
    assert tiny["grid_theta"][-1] == pytest.approx(tiny.meta["limits"]["theta_threshold_radians"])


def test_recorded_angular_velocity_is_the_one_the_simulation_integrated(tiny):
    # CartPole's Euler step: θ(t+1) = θ(t) + τ θ̇(t), with τ = 0.02 s
    for c, n in enumerate(tiny["eval_length"]):
        theta, theta_dot = tiny["eval_theta"][c, : n + 1], tiny["eval_theta_dot"][c, : n + 1]
        assert np.all(np.isfinite(theta_dot))
        np.testing.assert_allclose(theta[1:], theta[:-1] + 0.02 * theta_dot[:-1], atol=1e-5)


def test_recorded_episodes_respect_the_termination_limits(tiny):
    limits = tiny.meta["limits"]
    for c, n in enumerate(tiny["eval_length"]):
        x, theta, action = tiny["eval_x"][c], tiny["eval_theta"][c], tiny["eval_action"][c]
        assert 1 <= n <= limits["max_episode_steps"]
        # every state the policy acted from was inside the limits
        assert np.all(np.abs(x[:n]) <= limits["x_threshold"])
        assert np.all(np.abs(theta[:n]) <= limits["theta_threshold_radians"])
        if n < limits["max_episode_steps"]:  # ended early: the last state is past a limit
            assert (abs(x[n]) > limits["x_threshold"]
                    or abs(theta[n]) > limits["theta_threshold_radians"])
        assert set(np.unique(action[:n])) <= {0, 1} and np.all(action[n:] == -1)
        assert np.all(np.isnan(x[n + 1:])) and np.all(np.isnan(theta[n + 1:]))
        p = tiny["eval_p_right"][c][:n]
        assert np.all((p >= 0) & (p <= 1))


def test_checkpoints_are_in_training_order(tiny):
    episodes = tiny["checkpoint_episode"]
    assert episodes[0] == 0 and np.all(np.diff(episodes) >= 0)
    assert episodes[-1] < tiny.n_frames
    assert tiny.meta["checkpoint_episodes"] == episodes.tolist()


# --- the book's run -------------------------------------------------------------------------------

def test_default_config_solves_cartpole():
    timeline = train(CartPoleConfig())  # a few seconds here; allow a few minutes on a busy machine
    meta, rewards = timeline.meta, timeline["reward"]
    assert meta["solved"] is True
    assert meta["episodes_to_solve"] == solved_episode(rewards) + 1
    assert np.mean(rewards[meta["solved_at_episode"] - 99: meta["solved_at_episode"] + 1]) >= 475
    # training stopped with the batch that solved it
    assert timeline.n_frames - meta["episodes_to_solve"] < CartPoleConfig().episodes_per_update
    assert meta["checkpoints"][-1] == "solved"
    assert sum(a.nbytes for a in timeline.to_arrays().values()) < 250_000
