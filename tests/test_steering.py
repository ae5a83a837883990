"""Steering: the edits, the feature rule, the measures, and the book's runs."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from explainers.lm.sae import TopKSAE
from explainers.steering import train as steering
from explainers.steering import words
from explainers.timeline import Timeline


def small_sae(seed=0):
    torch.manual_seed(seed)
    sae = TopKSAE(d_in=10, d_sae=30, k=4).requires_grad_(False)
    sae.scale.fill_(0.5)
    return sae


def test_clamping_a_feature_to_its_own_value_changes_nothing():
    sae = small_sae()
    x = torch.randn(7, 10)
    f = sae.encode(x)
    i = int(f[0].argmax())
    row = steering.clamp_feature(sae, i, float(f[0, i]))(x[:1])
    assert torch.allclose(row, x[:1], atol=1e-5)


def test_clamping_keeps_the_error_term_and_moves_only_along_the_features_decoder_row():
    sae = small_sae()
    x = torch.randn(5, 10) * 3
    i, value = 7, 4.0
    f = sae.encode(x)
    expected = x + (value - f[:, i])[:, None] * sae.W_dec[i] / sae.scale
    assert torch.allclose(steering.clamp_feature(sae, i, value)(x), expected, atol=1e-5)


@pytest.mark.parametrize("method", ["feature", "direction"])
def test_one_batch_of_several_strengths_edits_each_row_as_its_own_strength_would(method):
    """The run answers every strength in one batch; each row must get exactly its own edit."""
    sae = small_sae()
    choice = {"feature": 3, "max_activation": 2.5, "direction": np.linspace(-1, 1, 10).astype(np.float32),
              "unit_norm": 4.0}
    strengths = [1.0, 2.0, 8.0]
    x = torch.randn(len(strengths), 6, 10)
    batched = steering.edit_for(sae, choice, method, strengths, torch.device("cpu"))(x)
    for row, strength in enumerate(strengths):
        alone = steering.edit_for(sae, choice, method, strength, torch.device("cpu"))(x[row:row + 1])
        assert torch.allclose(batched[row:row + 1], alone, atol=1e-5)
    assert steering.edit_for(sae, choice, method, 0, torch.device("cpu")) is None


class _Block(torch.nn.Module):
    def forward(self, x):
        return (x * 1.0,)


class _LM:
    def __init__(self):
        self.layers = torch.nn.ModuleList([_Block(), _Block()])


def test_steering_hook_edits_every_position_but_sinks_and_is_removed_afterwards():
    lm = _LM()
    x = torch.ones(1, 3, 4)
    x[0, 0] *= 100  # a sink: its norm is over the limit
    vector = torch.arange(4.0)
    with steering.steering(lm, 2, steering.add_vector(vector), limit=50.0):
        out = lm.layers[1](x)[0]
    assert torch.equal(out[0, 0], x[0, 0])
    assert torch.equal(out[0, 1:], x[0, 1:] + vector)
    assert torch.equal(lm.layers[1](x)[0], x)  # hook gone
    with steering.steering(lm, 2, None, limit=50.0):  # strength 0: no hook at all
        assert not lm.layers[1]._forward_hooks


def test_answer_only_steering_spares_the_prompt_but_its_last_position_and_edits_every_new_token():
    lm = _LM()
    vector = torch.arange(4.0)
    prompt, new = torch.ones(2, 5, 4), torch.ones(2, 1, 4)
    with steering.steering(lm, 2, steering.add_vector(vector), limit=50.0, positions="answer"):
        out_prompt, out_new = lm.layers[1](prompt)[0], lm.layers[1](new)[0]
    assert torch.equal(out_prompt[:, :-1], prompt[:, :-1])
    assert torch.equal(out_prompt[:, -1], prompt[:, -1] + vector)
    assert torch.equal(out_new, new + vector)


def test_mentions_match_words_not_parts_of_words():
    assert words.mentions("golden_gate", "We crossed the Golden Gate at dawn")
    assert words.mentions("golden_gate", "Two bridges span the bay")
    assert not words.mentions("golden_gate", "An abridged edition")
    assert words.mentions("dog", "Puppies love to play")
    assert not words.mentions("dog", "I ate a hotdog")


def test_repetition_is_the_share_of_repeated_trigrams():
    assert steering.repetition([1, 2, 3, 4, 5]) == 0
    assert steering.repetition([1, 2, 3, 1, 2, 3]) == pytest.approx(0.25)
    assert steering.repetition([7] * 10) == pytest.approx(7 / 8)
    assert steering.repetition([1, 2]) == 0


def test_mean_difference_and_the_feature_rule():
    resid = np.array([[1.0, 0], [3.0, 0], [0, 1.0], [0, 3.0]])
    rows = np.arange(4)
    labels = np.array(["a", "a", "b", "b"])
    assert np.allclose(steering.mean_difference(resid, rows, labels, "a"), [2, -2])
    raises = np.array([5.0, 1.0, 3.0])
    # feature 0 raises the concept's words most but detects poorly: feature 2 is chosen among detectors
    assert steering.choose_feature(np.array([0.6, 0.95, 0.99]), raises, 0.9) == 2
    # no feature detects well enough: the ten best detectors are the candidates
    assert steering.choose_feature(np.array([0.6, 0.7, 0.8]), raises, 0.9) == 0


def test_promotion_measures_how_far_a_direction_raises_words_above_the_vocabulary():
    rng = np.random.default_rng(0)
    unembed = rng.normal(size=(500, 8)).astype(np.float32)
    decoder = rng.normal(size=(6, 8))
    decoder[4] = unembed[[7, 9]].sum(0)  # writes words 7 and 9
    scores = steering.promotion(decoder, unembed, [7, 9], chunk=4)
    assert int(np.argmax(scores)) == 4 and scores[4] > 1


def _result(mentions: dict) -> Timeline:
    """A steering result with the given mention fractions per (concept, method): lists over strengths."""
    strengths = [0, 1, 2]
    settings = []
    for (concept, method), fractions in mentions.items():
        for s, frac in zip(strengths, fractions):
            said = [i < round(frac * 4) for i in range(4)]
            settings.append({"concept": concept, "method": method, "strength": float(s), "texts": ["a dog"] * 4,
                             "mentions": said, "losses": [1.0] * 4, "mention_fraction": frac, "loss": 1.0 + s,
                             "repetition": 0.0, "tokens": [2] * 4, "added_norm": s / 2})
    concepts = sorted({c for c, _ in mentions})
    return Timeline(meta={"config": {"concepts": concepts, "strengths": strengths, "prompts": ["p"] * 4,
                                     "max_new_tokens": 8},
                          "settings": settings, "layer": 3, "concept_names": {"dog": "dogs", "cat": "cats"},
                          "features": {c: {"feature": 5} for c in concepts}})


def test_verdicts_say_which_method_worked_from_which_strength_and_the_best_of_the_rest():
    from explainers.steering.facts import example, verdicts

    result = _result({("dog", "feature"): [0, 0.25, 0.25], ("dog", "direction"): [0, 0.5, 1.0],
                      ("cat", "feature"): [0, 0, 0], ("cat", "direction"): [0, 0.25, 0.75]})
    said = verdicts(result, {"dog": "dogs", "cat": "cats"})
    assert said["direction"] == "made at least half of the answers mention cats from 2× and dogs from 1×"
    assert said["feature"].startswith("never made half of the answers mention its concept: at best 0 of 4 for cats at every strength")
    assert "1 of 4 for dogs (at 1×)" in said["feature"]
    chosen = example(result)
    assert (chosen["setting"]["method"], chosen["setting"]["strength"]) == ("direction", 2.0)


def test_chart_marks_mentions_and_escapes_the_answers():
    from explainers.steering.charts import highlighted, steering_chart

    assert highlighted("dog", "<b>My Dog</b>") == "&lt;b&gt;My <mark>Dog</mark>&lt;/b&gt;"
    chart = steering_chart(_result({("dog", "feature"): [0, 0.25, 0.5], ("dog", "direction"): [0, 1, 1]}))
    assert chart.id == "steering-strength"


# --- the book's runs (read from the cache the build filled) ---------------------------------------------

@pytest.fixture(scope="module")
def steered():
    return steering.runs()


def test_book_run_shares_one_unsteered_baseline_and_scores_every_setting(steered):
    config = steered.meta["config"]
    settings = steered.meta["settings"]
    assert len(settings) == len(config["concepts"]) * 2 * len(config["strengths"])
    baselines = [s["texts"] for s in settings if s["strength"] == 0]
    assert all(texts == baselines[0] for texts in baselines)
    for s in settings:
        assert 0 <= s["mention_fraction"] <= 1
        assert len(s["texts"]) == len(config["prompts"])
        assert all(np.isfinite(loss) for loss, n in zip(s["losses"], s["tokens"]) if n > 0)
    for concept, f in steered.meta["features"].items():
        assert f["max_activation"] > 0 and f["unit_norm"] > 0
        direction = steered[f"direction_{concept}"]
        assert direction.ndim == 1 and np.linalg.norm(direction) == pytest.approx(f["direction_norm"], rel=1e-4)


def test_steering_changes_the_answers_and_breaks_them_at_the_top_strength(steered):
    config = steered.meta["config"]
    by = {(s["concept"], s["method"], s["strength"]): s for s in steered.meta["settings"]}
    top = float(max(config["strengths"]))
    for concept in config["concepts"]:
        for method in words.METHODS:
            assert by[(concept, method, top)]["texts"] != by[(concept, method, 0.0)]["texts"]
            # the strongest push makes text the unsteered model finds far less likely
            assert by[(concept, method, top)]["loss"] > by[(concept, method, 0.0)]["loss"] + 0.5


def test_reproduce_command_prints_the_books_answers_for_one_setting(steered):
    by = {(s["concept"], s["method"], s["strength"]): s for s in steered.meta["settings"]}
    concept, method, strength = steered.meta["config"]["concepts"][0], "direction", 4.0
    out = subprocess.run([sys.executable, "-m", "explainers", "steer", concept, method, f"{strength:g}"],
                         capture_output=True, text=True, check=True).stdout
    for prompt, text in zip(steered.meta["config"]["prompts"], by[(concept, method, strength)]["texts"]):
        assert f"> {prompt}\n{text}\n" in out


def test_steer_command_rejects_an_unknown_concept():
    out = subprocess.run([sys.executable, "-m", "explainers", "steer", "kittens", "feature", "2"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "kittens" in out.stderr
