"""Steering: the edits, the feature rule, the measures, and the book's runs."""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from explainers.lm.edit import edited_residual
from explainers.lm.sae import TopKSAE
from explainers.steering import train as steering
from explainers.steering import words
from explainers.steering.runs import SteeringRuns
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
    with edited_residual(lm, 2, steering.add_vector(vector), limit=50.0):
        out = lm.layers[1](x)[0]
    assert torch.equal(out[0, 0], x[0, 0])
    assert torch.equal(out[0, 1:], x[0, 1:] + vector)
    assert torch.equal(lm.layers[1](x)[0], x)  # hook gone
    with edited_residual(lm, 2, None, limit=50.0):  # strength 0: no hook at all
        assert not lm.layers[1]._forward_hooks


def test_answer_only_steering_spares_the_prompt_but_its_last_position_and_edits_every_new_token():
    lm = _LM()
    vector = torch.arange(4.0)
    prompt, new = torch.ones(2, 5, 4), torch.ones(2, 1, 4)
    with edited_residual(lm, 2, steering.add_vector(vector), limit=50.0, positions="answer"):
        out_prompt, out_new = lm.layers[1](prompt)[0], lm.layers[1](new)[0]
    assert torch.equal(out_prompt[:, :-1], prompt[:, :-1])
    assert torch.equal(out_prompt[:, -1], prompt[:, -1] + vector)
    assert torch.equal(out_new, new + vector)


def test_mentions_match_words_not_parts_of_words_and_a_bridge_is_not_the_golden_gate():
    assert words.mentions("golden_gate", "We crossed the Golden Gate at dawn")
    assert words.mentions("golden_gate", "A weekend in San Francisco")
    assert not words.mentions("golden_gate", "Two bridges span the bay")
    assert not words.mentions("golden_gate", "The Golden Bridge, a Bridge")
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
    scores = steering.promotion(decoder, unembed, [7, 9])
    assert int(np.argmax(scores)) == 4 and scores[4] > 1


HUMAN = {"loss": 2.5, "loss_interval": [2.3, 2.7], "repetition": 0.05}


def test_the_rule_needs_mentions_and_human_fluency_and_little_repetition():
    good = {"strength": 2.0, "mention_fraction": 0.5, "loss": 2.5, "repetition": 0.15}
    assert words.works(good, HUMAN)
    assert not words.works(good | {"mention_fraction": 0.45}, HUMAN)
    assert not words.works(good | {"loss": 2.51}, HUMAN)
    assert not words.works(good | {"loss": float("nan")}, HUMAN)
    assert not words.works(good | {"repetition": 0.16}, HUMAN)
    # the search's score: the most mentions at a strength that stays fluent, the unsteered row aside
    settings = [good | {"strength": 0.0, "mention_fraction": 1.0}, good | {"mention_fraction": 0.25},
                good | {"strength": 4.0, "mention_fraction": 0.9, "loss": 4.0}]
    assert words.steering_score(settings, HUMAN) == 0.25


def test_headline_strength_has_the_most_mentions_while_clearly_fluent_the_weakest_on_a_tie():
    row = {"mention_fraction": 0.0, "loss": 2.0, "loss_interval": [1.8, 2.2], "repetition": 0.0}
    settings = [row | {"strength": 0.0, "mention_fraction": 1.0}, row | {"strength": 1.0, "mention_fraction": 0.25},
                row | {"strength": 2.0, "mention_fraction": 0.75}, row | {"strength": 3.0, "mention_fraction": 0.75},
                row | {"strength": 4.0, "mention_fraction": 1.0, "loss": 3.0, "loss_interval": [2.8, 3.2]}]
    assert words.headline_strength(settings, HUMAN) == 2.0
    settings[2]["repetition"] = 0.2  # repeats itself too much
    assert words.headline_strength(settings, HUMAN) == 3.0
    # a mean under the people's whose interval reaches into theirs is fluent, but not clearly
    settings[3] |= {"mention_fraction": 0.9, "loss": 2.45, "loss_interval": [2.2, 2.7]}
    assert words.fluent(settings[3], HUMAN) and not words.clearly_fluent(settings[3], HUMAN)
    assert words.headline_strength(settings, HUMAN) == 1.0
    for s in settings[1:4]:
        s["mention_fraction"] = 0.0
    assert words.headline_strength(settings, HUMAN) is None


def test_adding_the_decoder_direction_equals_clamping_a_silent_feature():
    sae = small_sae()
    x = torch.randn(6, 10)
    f = sae.encode(x)
    silent = int(np.flatnonzero((f == 0).all(0).numpy())[0])
    choice = {"feature": silent, "max_activation": 2.0}
    clamped = steering.edit_for(sae, choice, "feature", 3.0, torch.device("cpu"), steering.Recipe(edit="clamp"))(x)
    added = steering.edit_for(sae, choice, "feature", 3.0, torch.device("cpu"), steering.Recipe(edit="add"))(x)
    assert torch.allclose(clamped, added, atol=1e-5)
    # on an active feature they differ: the clamp sets the feature, the addition adds to it
    active = int(f[0].argmax())
    choice["feature"] = active
    clamped = steering.edit_for(sae, choice, "feature", 3.0, torch.device("cpu"), steering.Recipe(edit="clamp"))(x[:1])
    added = steering.edit_for(sae, choice, "feature", 3.0, torch.device("cpu"), steering.Recipe(edit="add"))(x[:1])
    assert not torch.allclose(clamped, added, atol=1e-3)


def test_output_rule_candidates_are_the_best_detectors_and_the_best_writers():
    auc = np.array([0.9, 0.1, 0.8, 0.2, 0.3])
    raises = np.array([0.0, 5.0, 0.0, 4.0, 1.0])
    assert steering.output_candidates(auc, raises, 2).tolist() == [0, 1, 2, 3]


def test_prompts_are_fixed_apart_and_none_names_a_steered_concept():
    train_prompts = {p for p, _ in words.TRAINING}
    held_out = {p for p, _ in words.HELD_OUT}
    retired = [{p for p, _ in r} for r in words.RETIRED_HELD_OUT]
    assert len(held_out) >= 24 and len(train_prompts) == 16 and len(retired) == 3
    sets = [train_prompts, held_out, *retired]
    assert sum(map(len, sets)) == len(set().union(*sets))  # no prompt in two sets
    # the strength is chosen on every used prompt, never on the held-out ones
    assert {p for p, _ in words.STRENGTH_PROMPTS} == set().union(train_prompts, *retired)
    for prompt, human in words.TRAINING + words.HELD_OUT + words.STRENGTH_PROMPTS:
        assert len(human.split()) >= 10
        assert not any(words.mentions(c, prompt) for c in words.MENTIONS)


def _result(outcomes: dict, chosen: dict) -> SteeringRuns:
    """A steering result: per (concept, method) a list over strengths 0, 1, 2 of (mention share, loss)."""
    strengths = [0, 1, 2]
    settings = []
    for (concept, method), rows in outcomes.items():
        for s, (frac, loss) in zip(strengths, rows):
            said = [i < round(frac * 4) for i in range(4)]
            settings.append({"concept": concept, "method": method, "strength": float(s), "texts": ["a dog"] * 4,
                             "mentions": said, "losses": [loss] * 4, "mention_fraction": frac, "loss": loss,
                             "mention_interval": [0, 1], "loss_interval": [loss, loss], "repetition": 0.0,
                             "repetition_interval": [0, 0], "tokens": [2] * 4, "added_norm": s / 2})
    concepts = sorted({c for c, _ in outcomes})
    human = {"loss": 2.5, "repetition": 0.05, "loss_interval": [2.3, 2.7], "repetition_interval": [0, 0.1]}
    return SteeringRuns.from_timeline(Timeline(meta={"config": {"concepts": concepts, "strengths": strengths, "prompts": [("p", "h")] * 4,
                                     "max_new_tokens": 8, "chosen": [(c, m, s) for (c, m), s in chosen.items()],
                                     "recipe": {"rule": "output", "edit": "add", "positions": "all",
                                                "repetition_penalty": 1.2}},
                          "settings": settings, "human": human, "layer": 3,
                          "concept_names": {"dog": "dogs", "cat": "cats"},
                          "features": {c: {"feature": 5} for c in concepts}}))


def test_verdicts_report_the_strength_chosen_on_training_prompts_not_the_best_held_out_one():
    from explainers.steering.facts import example, verdict

    result = _result({("dog", "feature"): [(0, 1), (0.25, 2), (1.0, 2.4)],
                      ("cat", "feature"): [(0, 1), (0.75, 3.0), (1.0, 2.0)]},
                     {("dog", "feature"): 2.0, ("cat", "feature"): 1.0})
    said = verdict(result, "feature")
    assert said.startswith("for cats it did not (3 of 4 held-out answers mentioned cats at 1×; loss 3.00 above")
    assert "for dogs it worked (4 of 4 held-out answers mentioned dogs at 2×)" in said
    chosen = example(result)
    assert (chosen["setting"]["concept"], chosen["setting"]["strength"], chosen["works"]) == ("dog", 2.0, True)


def test_a_held_out_strength_that_passes_is_named_afterwards_without_changing_the_verdict():
    from explainers.steering.facts import missed_strengths, verdict

    result = _result({("dog", "feature"): [(0, 1), (0.75, 2.0), (0.25, 3.0)]}, {("dog", "feature"): 2.0})
    assert "for dogs it did not" in verdict(result, "feature")
    said = missed_strengths(result)
    assert "changes no verdict" in said and "passes on the held-out prompts at 1× (3 of 4, loss 2.00)" in said
    assert "those strengths had" not in said  # no search record or curves: no training numbers to quote
    passing = _result({("dog", "feature"): [(0, 1), (0.75, 2.0), (1.0, 2.4)]}, {("dog", "feature"): 2.0})
    assert missed_strengths(passing) == ""  # the chosen strength works: nothing to add


def test_held_out_history_says_what_each_retired_rule_did_and_why_the_rule_changed():
    from explainers.steering.facts import held_out_history
    from explainers.steering.runs import retired

    def as_retired(rows, strength: float, date: str, kind: str) -> dict:  # a retired run, in the recorder's form
        meta = _result({("dog", "feature"): rows}, {("dog", "feature"): strength}).steered.meta
        return retired({"meta": meta, "provenance": {"date": date}}, kind)

    first = as_retired([(0, 1), (0.25, 2.0), (1.0, 2.4)], 1.0, "2026-01-01T00:00", "first-held-out")
    second = as_retired([(0, 1), (0.75, 2.0), (0.75, 3.0)], 2.0, "2026-02-01T00:00", "second-held-out")
    third = as_retired([(0, 1), (0.25, 2.0), (1.0, 2.4)], 1.0, "2026-03-01T00:00", "third-held-out")
    curve = [{"strength": 1.0, "mention_fraction": 0.5, "loss": 3.0, "loss_interval": [2.8, 3.2], "repetition": 0.0},
             {"strength": 1.5, "mention_fraction": 0.5, "loss": 3.4, "loss_interval": [3.2, 3.6], "repetition": 0.0},
             {"strength": 2.0, "mention_fraction": 0.6, "loss": 4.10, "loss_interval": [3.75, 4.41], "repetition": 0.0}]
    search = {"human": {"loss": 4.13, "loss_interval": [3.80, 4.51], "repetition": 0.0}, "prompts": ["p"] * 16,
              "variants": {"combined": {"concepts": {"dog": {"settings": curve}}}}}
    said = held_out_history((first, second, third), {"dog": "dogs"}, search)
    assert said.startswith("These are the fourth held-out prompts.")
    assert "The first set tested the weakest strength that works on the training prompts and gave: SAE feature " \
           "toward dogs at 1×: 1 of 4, fails" in said
    assert "SAE feature toward dogs at 2×: 3 of 4, fails" in said
    # the second set's failure: its training loss passed the bar with overlapping intervals
    assert "had been chosen at 2×, whose loss on the training prompts, 4.10 (3.75–4.41), was under the people's " \
           "4.13 (3.80–4.51) with the two intervals overlapping" in said
    # the third set's failure: a tie on the training prompts went to the weakest strength
    assert "mentioned it in 8 of 16 training answers at each of 1×, 1.5×, and the tie went to the weakest, 1×" in said
    assert "2026-01-01-…-first-held-out.json, 2026-02-01-…-second-held-out.json, " \
           "2026-03-01-…-third-held-out.json" in said
    # a chosen strength that was clearly fluent on the training prompts is no coin toss
    curve[2]["loss_interval"] = [3.5, 3.7]
    assert "coin toss" not in held_out_history((first, second, third), {"dog": "dogs"}, search)
    assert held_out_history((), {"dog": "dogs"}, search) == ""
    # beside a feature that works, the page says how many sets came before and what they gave
    from explainers.steering.facts import _earlier_sets

    now = _result({("dog", "feature"): [(0, 1), (1.0, 2.0), (1.0, 2.4)]}, {("dog", "feature"): 1.0})
    said = _earlier_sets(dataclasses.replace(now, earlier_held_out=(first, second, third)))
    assert "the fourth held-out prompts" in said and "on none of the earlier ones did a feature pass" in said
    passing = as_retired([(0, 1), (1.0, 2.0), (1.0, 2.4)], 1.0, "2026-04-01T00:00", "second-held-out")
    said = _earlier_sets(dataclasses.replace(now, earlier_held_out=(first, passing)))
    assert "the third held-out prompts" in said and "passed at its chosen strength on 1 of the 2 earlier ones" in said


def test_chart_marks_mentions_and_draws_the_unsteered_and_the_human_loss():
    from bokeh.models import Span

    from explainers.steering.charts import steering_chart

    assert words.highlighted("dog", "<b>My Dog</b>") == "&lt;b&gt;My <mark>Dog</mark>&lt;/b&gt;"
    chart = steering_chart(_result({("dog", "feature"): [(0, 1), (0.25, 2), (0.5, 2)],
                                    ("dog", "direction"): [(0, 1.5), (1, 2), (1, 3)]}, {("dog", "feature"): 1.0}))
    lines = {(span.location, tuple(span.line_dash)) for span in chart.layout.select({"type": Span})}
    assert {location for location, _ in lines} == {1.0, 2.5, words.MIN_MENTION}


# --- the book's runs (read from the cache the build filled) ---------------------------------------------

@pytest.fixture(scope="module")
def steered():
    return steering.run(steering.book_config())


def test_book_run_answers_the_held_out_prompts_and_scores_every_setting(steered):
    config = steered.meta["config"]
    assert [tuple(p) for p in config["prompts"]] == list(words.HELD_OUT)
    settings = steered.meta["settings"]
    assert len(settings) == len(config["concepts"]) * 2 * len(config["strengths"])
    baselines = [s["texts"] for s in settings if s["strength"] == 0]
    assert all(texts == baselines[0] for texts in baselines)
    for s in settings + [steered.meta["human"]]:
        assert 0 <= s["mention_fraction"] <= 1 and len(s["texts"]) == len(config["prompts"])
        assert s["loss_interval"][0] <= s["loss"] <= s["loss_interval"][1]
        assert all(np.isfinite(loss) for loss, n in zip(s["losses"], s["tokens"]) if n > 0)
    # people's answers read as less predictable to the model than its own greedy ones
    assert steered.meta["human"]["loss"] > settings[0]["loss"]
    for concept, f in steered.meta["features"].items():
        assert f["max_activation"] > 0 and f["unit_norm"] > 0 and f["rule"] == config["recipe"]["rule"]
        direction = steered[f"direction_{concept}"]
        assert direction.ndim == 1 and np.linalg.norm(direction) == pytest.approx(f["direction_norm"], rel=1e-4)


def test_book_config_uses_what_the_recorded_search_chose():
    from dataclasses import asdict

    record = steering.search_record()
    curves = steering.strength_record()
    config = steering.book_config()
    assert asdict(config.recipe) == record["recipe"]
    assert config.chapter.activations.layer == record["layer"]
    # the strengths come from the curves made with the search's recipe on every used prompt
    assert curves is not None and curves["search"] == record["provenance"]
    assert (curves["layer"], curves["recipe"]) == (record["layer"], record["recipe"])
    assert {(c, m, s) for c, m, s in config.chosen} == {
        (c, m, s) for c, m, s in steering.chosen_strengths(curves) if s is not None}
    assert all(s in config.strengths for _, _, s in config.chosen)
    # the search read the training prompts only, the curves the used prompts; neither a held-out one
    assert record["prompts"] == [p for p, _ in words.TRAINING]
    assert curves["prompts"] == [p for p, _ in words.STRENGTH_PROMPTS]
    assert not {p for p, _ in words.HELD_OUT} & set(curves["prompts"])


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
    for (prompt, _), text in zip(steered.meta["config"]["prompts"], by[(concept, method, strength)]["texts"]):
        assert f"> {prompt}\n{text}\n" in out


def test_steer_command_steers_a_readers_own_prompts(steered):
    concept, method, strength = steered.meta["config"]["chosen"][-1]
    mine = ["What should I cook tonight?", "Describe your street."]
    out = subprocess.run([sys.executable, "-m", "explainers", "steer", concept, method, f"{strength:g}",
                          "--prompt", mine[0], "--prompt", mine[1]], capture_output=True, text=True, check=True).stdout
    blocks = [b for b in out.split("> ") if b]
    assert [b.split("\n")[0] for b in blocks] == mine
    assert all(len(b.split("\n", 1)[1].strip()) > 0 for b in blocks)


def test_steer_command_rejects_an_unknown_concept():
    out = subprocess.run([sys.executable, "-m", "explainers", "steer", "kittens", "feature", "2"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "kittens" in out.stderr


def test_promotion_equals_the_z_score_of_the_full_logits():
    """The logit-lens score is computed from the unembedding's mean and covariance; it must equal the
    z-score of the words' logits among all logits, computed the long way."""
    from explainers.steering.train import promotion

    rng = np.random.default_rng(0)
    decoder, unembed = rng.standard_normal((40, 12)), rng.standard_normal((500, 12))
    words = [2, 99, 431]
    logits = decoder @ unembed.T
    z = (logits[:, words] - logits.mean(1, keepdims=True)) / logits.std(1, keepdims=True)
    assert np.allclose(promotion(decoder, unembed, words), z.mean(1), atol=1e-9)


def test_answer_losses_score_each_distinct_pair_once_and_batching_changes_no_loss():
    """Settings share answers (the unsteered ones, weak edits): each distinct pair is scored once, and
    batches of any size give each pair the loss it has alone."""
    from explainers.lm.model import load

    lm = load(None, torch.device("cpu"), "float32")
    prompts = [steering.chat_ids(lm.tokenizer, p) for p in ("Name a pet.", "Say hi.", "Name a bridge.")]
    said = [lm.tokenizer(t, add_special_tokens=False).input_ids for t in ("A dog.", "Hello there, friend!", "")]
    alone = [steering.answer_losses(lm, [p], [a])[0] for p, a in zip(prompts, said)]
    scored_pairs = []
    real = steering.batch_losses
    steering.batch_losses = lambda lm_, pairs: scored_pairs.extend(pairs) or real(lm_, pairs)
    try:
        together = steering.answer_losses(lm, prompts * 3, said * 3, batch_tokens=40)
    finally:
        steering.batch_losses = real
    assert len(scored_pairs) == 2  # two distinct non-empty pairs, each once
    assert together[:2] == pytest.approx(alone[:2], abs=1e-4) and together[3:5] == together[:2]
    assert np.isnan(together[2]) and np.isnan(together[8])


def test_answer_losses_match_the_full_forward():
    """Scoring reads the unembedding only where an answer token is predicted; the losses must equal those
    of the full forward pass, and an empty answer gives nan."""
    from explainers.lm.model import load

    lm = load(None, torch.device("cpu"), "float32")
    prompts = [steering.chat_ids(lm.tokenizer, "Name a pet."), steering.chat_ids(lm.tokenizer, "Say hi.")]
    answers = [lm.tokenizer("A dog, of course.", add_special_tokens=False).input_ids, []]
    got = steering.answer_losses(lm, prompts, answers)
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([prompts[0] + answers[0]])).logits[0].float()
    positions = torch.arange(len(prompts[0]) - 1, len(prompts[0]) + len(answers[0]) - 1)
    expected = -torch.log_softmax(logits[positions], -1)[torch.arange(len(positions)), torch.tensor(answers[0])].mean()
    assert got[0] == pytest.approx(float(expected), abs=1e-4) and np.isnan(got[1])


def test_a_recorded_run_is_read_only_by_a_build_made_from_exactly_what_it_was(tmp_path, monkeypatch):
    """The page may show a recorded run instead of generating again, but only when the record was made
    from this build's own SAE, codes, code, settings and libraries; any other build measures."""
    import json

    from explainers.recorder import write_record
    from explainers.steering import recorded

    config = steering.tiny_config()
    measured = steering.measure(config)
    path = write_record(recorded.KIND, recorded.as_record(measured, steering.fingerprint(config)), tmp_path,
                        "the test's recorder", 0.0)
    monkeypatch.setattr(steering, "RECORDS", tmp_path)

    read = steering.run(config)
    assert read.meta["recorded"]["command"] == "the test's recorder"
    assert json.dumps(read.meta["settings"]) == json.dumps(measured.meta["settings"])
    for concept in config.concepts:
        assert np.array_equal(read[f"direction_{concept}"], measured[f"direction_{concept}"])
    assert SteeringRuns.from_timeline(read).recorded["file"] == path.name

    record = json.loads(path.read_text())
    for name in ("sae_and_codes", "run_key", "torch"):  # another SAE, other code, another torch
        other = dict(record, inputs=dict(record["inputs"], **{name: "something else"}))
        path.write_text(json.dumps(other))
        assert "recorded" not in steering.run(config).meta
    assert recorded.fingerprint(config.chapter, "k") != recorded.fingerprint(
        dataclasses.replace(config.chapter, sae=dataclasses.replace(config.chapter.sae, seed=1)), "k")
