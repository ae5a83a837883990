"""The superposition chapter: what the real runs produce, which the chapter's text describes.

The runs train for real (into a fresh cache for this session), so these tests fail if a change to the
training stops the toy model forming its pentagon, moves the phase diagram, or breaks the SAE.
"""
import numpy as np
import pytest
import torch

from explainers.superposition import toy
from explainers.superposition.runs import runs as chapter_runs
from explainers.superposition.geometry import (DEDICATED, NOT_REPRESENTED, OTHER, SUPERPOSITION, classify_phase,
                                               neighbour_angles, superposition as interference)
from explainers.superposition.toy import every_input
from explainers.timeline import display_frames


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """The chapter's three runs with the book's settings, trained once per session into a fresh cache."""
    with pytest.MonkeyPatch.context() as patch:  # only while training: other tests keep their cache
        patch.setenv("EXPLAINERS_CACHE", str(tmp_path_factory.mktemp("cache")))
        return chapter_runs()


def _sparsity_index(toy, p):
    return int(np.flatnonzero(np.isclose(toy["feature_probability"], p))[0])


# --- the toy model ------------------------------------------------------------------------------------


def test_sparsest_model_forms_a_regular_pentagon(runs):
    toy = runs.toy.timeline
    k = _sparsity_index(toy, toy["feature_probability"].min())
    columns, norms = toy["W_columns"][-1, k], toy["feature_norm"][-1, k]
    assert norms.min() > 0.9 and norms.max() / norms.min() < 1.1  # five features of similar norm
    angles = neighbour_angles(columns)
    assert len(angles) == 5 and np.all(np.abs(angles - 72) < 3), angles
    assert toy.meta["n_represented_shown"][k] == 5


def test_dense_model_keeps_the_two_most_important_features_orthogonal(runs):
    toy = runs.toy.timeline
    k = _sparsity_index(toy, 1.0)
    norms, columns = toy["feature_norm"][-1, k], toy["W_columns"][-1, k]
    assert np.all(norms[:2] > 0.9) and np.all(norms[2:] < 0.3), norms
    cosine = columns[0] @ columns[1] / (norms[0] * norms[1])
    assert abs(cosine) < 0.05
    assert np.all(toy["superposition"][-1, k, :2] < 0.05)


def test_features_represented_grow_with_sparsity_2_then_4_then_5(runs):
    toy = runs.toy.timeline
    assert toy.meta["n_represented_shown"] == [2, 4, 5, 5, 5]
    # the dense models never squeeze in a third feature; the sparse ones hold all five in most seeds
    assert np.all(toy["n_represented"][0] <= 3)
    assert np.all(toy["n_represented"][-1] == 5)


def test_shown_seed_is_the_lowest_loss_seed(runs):
    toy = runs.toy.timeline
    assert np.array_equal(toy["shown_seed"], toy["final_loss"].argmin(axis=1))
    assert np.allclose(toy["loss"][-1], toy["final_loss"].min(axis=1))


def test_toy_timeline_keeps_the_shown_steps_compactly(runs):
    run, config = runs.toy.timeline, toy.ToyConfig()
    assert np.array_equal(run["step"], display_frames(config.steps + 1, config.max_frames))
    assert run["step"][0] == 0 and run["step"][-1] == config.steps
    for name in ("W_columns", "b", "loss", "feature_norm", "superposition"):
        assert run[name].dtype == np.float32
    assert run["W_columns"].shape[1:] == (5, 5, 2)


def test_superposition_measure_is_zero_for_orthogonal_and_one_for_antipodal_features():
    orthogonal = np.array([[1.0, 0.0], [0.0, 1.0]])  # W: 2 neurons × 2 features
    assert np.allclose(interference(orthogonal), 0)
    antipodal = np.array([[1.0, -1.0]])  # 1 neuron, 2 features
    assert np.allclose(interference(antipodal), 1)


def test_neighbour_angles_of_a_square_are_right_angles():
    square = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=float)
    assert np.allclose(neighbour_angles(square), 90)


# --- the phase diagram --------------------------------------------------------------------------------


@pytest.mark.parametrize("w, phase", [
    ((1.0, 0.0), NOT_REPRESENTED),
    ((-0.98, 0.03), NOT_REPRESENTED),
    ((0.02, -1.0), DEDICATED),
    ((1.0, -1.0), SUPERPOSITION),
    ((-0.9, 0.95), SUPERPOSITION),
    ((0.8, 0.8), OTHER),  # same sign: the two features cannot be read back apart
    ((0.1, 0.1), OTHER),  # nothing represented
])
def test_phase_classifier_labels_hand_made_weights(w, phase):
    assert classify_phase(np.array(w), 0.5) == phase


def test_every_input_is_a_probability_distribution_with_density_p():
    p = torch.tensor([1.0, 0.1, 0.01])
    x, prob = every_input(p, 2, levels=12)
    assert torch.allclose(prob.sum(-1), torch.ones(3))
    present = (prob[:, :, None] * (x > 0)).sum(1)  # P(feature i present)
    assert torch.allclose(present, p[:, None].expand(3, 2), atol=1e-6)
    assert torch.allclose((prob[:, :, None] * x).sum(1), p[:, None] / 2, atol=1e-6)  # E x_i = p/2


def test_phase_diagram_dense_gives_the_neuron_to_the_more_important_feature(runs):
    phase = runs.phase.timeline
    dense = phase["phase"][-1, -1]  # density 1
    r = phase["relative_importance"]
    assert np.all(dense[r < 0.9] == NOT_REPRESENTED)
    assert np.all(dense[r > 1.1] == DEDICATED)


def test_phase_diagram_sparse_stores_both_features_antipodally(runs):
    phase = runs.phase.timeline
    assert np.all(phase["phase"][-1, 0] == SUPERPOSITION)  # density 0.01: every importance
    w = phase["W"][-1, 0]
    assert np.all(w[:, 0] * w[:, 1] < 0) and np.all(np.abs(w) > 0.9)


def test_superposition_region_widens_as_features_get_sparser(runs):
    phase = runs.phase.timeline
    per_density = (phase["phase"][-1] == SUPERPOSITION).sum(-1)  # density ascending
    assert np.all(np.diff(per_density) <= 0), per_density
    assert per_density[-1] == 0 and per_density[0] == len(phase["relative_importance"])
    assert phase.meta["phase_counts"]["other"] == 0


# --- the SAE on the pentagon --------------------------------------------------------------------------


def _run(sae, label):
    return sae.meta["run_labels"].index(label)


def test_resampled_sae_recovers_all_five_directions(runs):
    sae = runs.sae.timeline
    i = _run(sae, "d_sae=5 + resampling")
    recovered = sae["final_recovered"][i]
    assert (recovered == 5).sum() >= 7, recovered
    assert (recovered == 5).sum() >= (sae["final_recovered"][_run(sae, "d_sae=5")] == 5).sum()
    assert np.all(sae["final_best_cosine"][i][recovered == 5] > 0.95)


def test_wide_sae_recovers_all_five_but_leaves_latents_dead(runs):
    sae = runs.sae.timeline
    i = _run(sae, "d_sae=10")
    assert (sae["final_recovered"][i] == 5).sum() >= 7
    assert np.all(sae["final_dead"][i] >= 1)


def test_shown_seed_is_one_where_plain_d5_fails_and_resampling_fixes_it(runs):
    sae = runs.sae.timeline
    s = int(sae["shown_seed_index"])
    plain, resampled = _run(sae, "d_sae=5"), _run(sae, "d_sae=5 + resampling")
    assert sae["final_recovered"][plain, s] < 5 and sae["final_dead"][plain, s] >= 1
    assert sae["final_recovered"][resampled, s] == 5 and sae["final_dead"][resampled, s] == 0


def test_sae_metrics_are_sane(runs):
    sae = runs.sae.timeline
    assert np.all(sae["explained_variance"][-1] > 0.75)
    assert np.all((sae["l0"][-1] > 0.5) & (sae["l0"][-1] < 2))  # about one latent per input
    assert not sae["dead"][0].any()  # nothing is dead before training
    assert not np.any(sae["dead"] & ~sae["latent_exists"][None, :, None, :])
    assert sae["decoder"].dtype == np.float32
    norms = np.linalg.norm(sae["decoder"][-1], axis=-1)
    assert np.allclose(norms[sae["latent_exists"][:, None, :].repeat(norms.shape[1], 1)], 1, atol=1e-4)


def test_second_call_is_a_cache_hit(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLAINERS_CACHE", str(tmp_path))
    config = toy.PhaseConfig(n_density=2, n_importance=2, steps=20, max_frames=5)
    first = toy.phase_diagram(config)
    second = toy.phase_diagram(config)
    assert first.meta["cache"] == "miss" and second.meta["cache"] == "hit"
    assert np.array_equal(first["phase"], second["phase"])
