"""The real-model chapter's measures on cases whose answers are known: detection (as-is and pool-matched),
specificity, and the explain-simulate-score loop; then the whole pipeline on a tiny corpus."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from explainers.lm import explain
from explainers.lm import detection


def test_auc_matrix_matches_scikit_learn_for_every_concept_and_unit():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(200, 7)).round(1)  # rounding makes ties
    positives = np.stack([rng.random(200) < 0.2, rng.random(200) < 0.5], axis=1)
    got = detection.auc_matrix(scores, positives, chunk=3)
    for c in range(2):
        for u in range(7):
            assert got[c, u] == pytest.approx(roc_auc_score(positives[:, c], scores[:, u]), abs=1e-6)


@pytest.mark.parametrize("axis", [0, 1])
def test_ranks_match_scipy_with_ties_along_either_axis(axis):
    from scipy.stats import rankdata

    scores = np.random.default_rng(4).normal(size=(60, 9)).round(1)  # rounding makes ties
    assert np.array_equal(detection.ranks(scores, axis=axis), rankdata(scores, method="average", axis=axis))


def test_the_unit_is_chosen_on_training_items_and_scored_on_held_out_ones():
    train_auc = np.array([[0.9, 0.6, 0.7]])
    test_auc = np.array([[0.55, 0.99, 0.7]])
    units, held = detection.best_units(train_auc, test_auc)
    assert units.tolist() == [0] and held.tolist() == [0.55]  # never the held-out winner
    units, held = detection.best_units(train_auc, test_auc, pool=np.array([1, 2]))
    assert units.tolist() == [2] and held.tolist() == [0.7]


def test_pool_matching_removes_the_advantage_of_a_bigger_pool():
    """Two pools of pure noise: the best of the bigger one looks better as-is, not when matched."""
    rng = np.random.default_rng(1)
    y = np.zeros((300, 1), bool)
    y[:30] = True
    small, big = rng.normal(size=(300, 50)), rng.normal(size=(300, 2000))
    train, test = np.arange(300) % 2 == 0, np.arange(300) % 2 == 1
    aucs = {name: (detection.auc_matrix(s[train], y[train]), detection.auc_matrix(s[test], y[test]))
            for name, s in (("small", small), ("big", big))}
    assert aucs["big"][0].max() > aucs["small"][0].max()  # the larger pool's best is luckier
    matched = {name: detection.pool_matched(*a, n=50, draws=40, seed=0).mean() for name, a in aucs.items()}
    assert abs(matched["big"] - matched["small"]) < 0.05
    assert abs(matched["big"] - 0.5) < 0.08  # and, held out, noise is a coin


def test_bootstrap_interval_surrounds_the_estimate_and_narrows_with_more_items():
    rng = np.random.default_rng(2)

    def width(n):
        y = np.arange(n) % 4 == 0
        s = rng.normal(size=n) + y
        low, high = detection.bootstrap_interval(s, y, n=300)
        assert low <= detection.auc(s[:, None], y)[0] <= high
        return high - low

    assert width(2000) < width(100)


def test_bootstrap_interval_is_the_percentiles_of_each_resamples_own_auc():
    """All resamples are ranked in one call; each must give the AUC that resample gives alone."""
    rng = np.random.default_rng(3)
    y = rng.random(40) < 0.1  # few positives: some resamples have none and are skipped
    s = (rng.normal(size=40) + y).round(1)  # ties
    draws = np.random.default_rng(7).integers(0, 40, size=(200, 40))
    alone = [detection.auc(s[rows][:, None], y[rows])[0] for rows in draws if 0 < y[rows].sum() < 40]
    low, high = detection.bootstrap_interval(s, y, n=200, seed=7)
    assert (low, high) == pytest.approx((np.percentile(alone, 2.5), np.percentile(alone, 97.5)), abs=1e-6)


def test_specificity_is_the_share_of_the_top_items_that_are_about_the_concept():
    scores = np.arange(200.0)
    about = np.zeros(200, bool)
    about[-1] = True  # the top item
    assert detection.top_share(scores, about, 0.01) == 0.5  # top 2: one about it
    assert detection.top_share(scores, about, 0.005) == 1.0


def test_words_group_subword_tokens_and_drop_punctuation():
    words = explain.token_words([" The", " pood", "le", " bark", "ed", ".", " Dogs", "!"])
    assert words.tolist() == ["the", "poodle", "poodle", "barked", "barked", "", "dogs", ""]


LEXICON = explain.Lexicon({"dog": {"noun.animal"}, "cat": {"noun.animal"}, "horse": {"noun.animal"},
                           "bread": {"noun.food"}, "run": {"verb.motion"}})


def _items(texts):
    tokens = [t for text in texts for t in text]
    words = np.concatenate([explain.token_words(text) for text in texts])
    starts = np.cumsum([0] + [len(t) for t in texts[:-1]])
    return tokens, words, starts


def test_a_unit_that_fires_on_animal_words_is_explained_and_predicted():
    texts = [[" the", " dog", " ran"], [" a", " cat", " slept"], [" bread", " is", " warm"], [" my", " dogs"],
             [" the", " horse"], [" we", " run"]] * 10
    tokens, words, starts = _items(texts)
    values = np.array([2.0 if w in ("dog", "dogs", "cat", "horse") else 0.0 for w in words])
    train = np.arange(len(texts)) < 36
    maxima = explain.item_maxima(values, starts)
    e = explain.explain(values, words, starts, explain.top_items(maxima, train), LEXICON)
    assert e.category == "noun.animal" and "dog" in e.words
    assert "topic: animal (nouns)" in e.text()
    items = explain.evaluation_items(maxima, ~train, seed=0)
    assert explain.score(e, values, words, starts, items, LEXICON) == pytest.approx(1.0)


def test_a_unit_the_explanation_cannot_predict_scores_near_zero():
    texts = [[" the", " dog", " ran"], [" a", " cat", " slept"], [" bread", " is", " warm"]] * 20
    tokens, words, starts = _items(texts)
    rng = np.random.default_rng(0)
    values = rng.random(len(words)) * (rng.random(len(words)) < 0.3)
    train = np.arange(len(texts)) < 40
    maxima = explain.item_maxima(values, starts)
    e = explain.explain(values, words, starts, explain.top_items(maxima, train), LEXICON)
    scores = [explain.score(e, values, words, starts, explain.evaluation_items(maxima, ~train, seed=s), LEXICON)
              for s in range(5)]
    assert abs(np.mean(scores)) < 0.3


def test_evaluation_mixes_the_strongest_held_out_items_with_random_ones():
    maxima = np.arange(100.0)
    test = np.arange(100) % 2 == 1
    items = explain.evaluation_items(maxima, test, seed=0)
    assert len(items) == explain.EVAL_TOP + explain.EVAL_RANDOM and test[items].all()
    assert set(range(81, 100, 2)) <= set(items.tolist())  # the ten strongest held-out items


def test_correlation_is_zero_when_either_side_is_flat():
    assert explain.correlation(np.zeros(5), np.arange(5.0)) == 0.0
    assert explain.correlation(np.arange(5.0), np.ones(5)) == 0.0
    assert explain.correlation(np.arange(5.0), 2 * np.arange(5.0)) == pytest.approx(1.0)


# --- the whole pipeline on a tiny corpus (the real model, a small SAE) ------------------------------------

@pytest.fixture(scope="module")
def tiny_runs():
    from explainers.real_model.runs import runs, tiny_config

    return runs(tiny_config())


def test_tiny_pipeline_scores_every_concept_both_ways_and_every_unit_it_drew(tiny_runs):
    trained, analysis = tiny_runs.trained, tiny_runs.analysis
    meta = analysis.meta
    kinds = {(r["concept"], r["kind"]) for r in meta["detection"]}
    assert kinds == {(c, k) for c in meta["concepts"] for k in ("feature", "neuron", "basis", "random")}
    for r in meta["detection"]:
        assert 0 <= r["low"] <= r["high"] <= 1 and 0 <= r["auc"] <= 1
    width = trained.meta["collect"]["width"]
    assert meta["pool_sizes"] == {"feature": trained.meta["config"]["sae"]["d_sae"],
                                  "neuron": trained.meta["config"]["activations"]["layer"] * trained.meta["collect"]["mlp_width"],
                                  "basis": 2 * width, "random": 2 * width}
    random = [r for r in meta["interpretation"] if r["why"] == "random"]
    assert sum(r["kind"] == "neuron" for r in random) == trained.meta["config"]["activations"]["random_neurons"]
    assert all(-1 <= r["score"] <= 1 for r in meta["interpretation"])
    assert 0 < meta["metrics"]["ce_loss_recovered"] <= 1 and meta["metrics"]["delta_ce"] >= 0
    assert all("shuffled_score" in r for r in random)


def test_tiny_pipeline_compares_pools_paired_and_tests_its_neuron_on_controls(tiny_runs):
    from explainers.real_model.written import controls, related

    meta = tiny_runs.analysis.meta
    for kind, p in meta["paired"].items():
        assert p["interval"][0] <= p["mean"] <= p["interval"][1] or abs(p["mean"]) < 1e-9
        assert p["wins"] + p["losses"] <= len(meta["concepts"])
        assert 0 <= meta["matched"]["against"][kind]["draws_won"] <= 1
    a, b = meta["polysemantic"]["concepts"]
    assert not related(a, b, controls()["related"])
    groups = {r["name"] for r in meta["polysemantic"]["controls"] if r["control"]}
    assert groups == {g for c in (a, b) for g in controls()["related"][c]}
    held = sum(meta["held_counts"].values())  # every specificity share is of held-out items
    assert all(r["top_items"] <= max(1, held) for r in meta["specificity"])


def test_verdicts_follow_the_interval():
    from explainers.real_model.summaries import verdict

    assert verdict(0.01, 0.2, "ahead", "behind", "level") == "ahead"
    assert verdict(-0.2, -0.01, "ahead", "behind", "level") == "behind"
    assert verdict(-0.01, 0.2, "ahead", "behind", "level") == "level"


def test_direction_item_max_reads_each_direction_both_ways():
    from explainers.real_model.pools import direction_item_max, direction_values, residual_directions

    rng = np.random.default_rng(0)
    resid = rng.standard_normal((50, 6)).astype(np.float16)
    items = np.repeat(np.arange(5), 10)
    d = residual_directions(6, seed=1)["random"]
    assert np.allclose(np.linalg.norm(d, axis=0), 1, atol=1e-5)
    out = direction_item_max(resid, np.arange(50), items, 5, d, chunk=7)
    projection = resid.astype(np.float32) @ d
    for i in range(5):
        assert np.allclose(out[i, :6], projection[items == i].max(0), atol=1e-5)
        assert np.allclose(out[i, 6:], -projection[items == i].min(0), atol=1e-5)
    units = np.array([0, 8])
    assert np.allclose(direction_values(resid, np.arange(50), d, units), projection[:, [0, 2]] * [1, -1], atol=1e-5)


def test_clean_breakdown_groups_by_source_and_position():
    from explainers.real_model.measures import clean_breakdown

    losses = [np.array([4.0, 2.0, 2.0, 2.0]), np.array([6.0]), np.array([1.0, 1.0])]
    by = clean_breakdown(losses, ["wordnet", "fortunes", "written"])
    assert by["source"] == {"fortunes": 6.0, "wordnet": 2.5, "written": 1.0}
    assert by["position"][0] == {"from": 2, "to": 4, "loss": 3.5, "tokens": 4}  # 4, 2, 2 and the 6
    assert by["position"][1] == {"from": 5, "to": 5, "loss": 2.0, "tokens": 1}  # written text is not counted


def test_tiny_pipeline_gives_every_chart_and_fact(tiny_runs):
    from explainers.real_model import charts, facts

    said = facts.facts(tiny_runs)
    assert said["n_concepts"] == len(tiny_runs.analysis.meta["concepts"])
    for chart_id, title in charts.CHARTS.items():
        chart = charts.chart(chart_id, tiny_runs)
        assert chart.title == title


def test_the_activation_store_in_bfloat16_matches_float32(tiny_runs):
    """Where the processor computes bfloat16 natively the book collects in it. The residual of every token
    the statistics keep stays within a few percent of float32's; the attention sinks, left out of every
    statistic, and the item maxima they feed move more, so those are held to their correlation."""
    from dataclasses import replace

    from explainers.lm.activations import collect
    from explainers.lm.stages import kept_tokens
    from explainers.real_model.train import tiny_config

    config = tiny_config().activations
    full, half = collect(config), collect(replace(config, dtype="bfloat16"))
    a, b = full["resid"].astype(np.float32), half["resid"].astype(np.float32)
    keep = kept_tokens(full)
    error = np.linalg.norm(a - b, axis=1)[keep] / np.linalg.norm(a, axis=1)[keep]
    assert np.median(error) < 0.03 and np.percentile(error, 95) < 0.1
    x, y = full["neuron_tokens"].astype(np.float32), half["neuron_tokens"].astype(np.float32)
    assert np.linalg.norm(x - y) / np.linalg.norm(x) < 0.05
    x, y = full["neuron_max"].astype(np.float32).ravel(), half["neuron_max"].astype(np.float32).ravel()
    assert full["neuron_max"].shape == half["neuron_max"].shape and np.corrcoef(x, y)[0, 1] > 0.98


def test_rerunning_from_the_spliced_block_gives_the_full_forward_logits():
    """The spliced loss runs the blocks before the edit once and reruns the rest per mode: with no edit,
    the rerun must give the same logits as the whole model, through the unembedding."""
    import torch

    from explainers.lm.activations import encode, padded
    from explainers.lm.model import load
    from explainers.real_model.measures import clean_pass, rerun_from

    lm = load(None, torch.device("cpu"), "float32")
    ids, attention = padded(encode(lm.tokenizer, ["The dog slept.", "A bridge over the bay, in fog at dawn."]))
    with torch.no_grad():
        hidden, block_input = clean_pass(lm, 5, ids, attention)
        again = lm.model.lm_head(rerun_from(lm, 5, block_input))
        full = lm.model(input_ids=ids, attention_mask=attention, use_cache=False).logits
    assert torch.allclose(lm.model.lm_head(hidden), full, atol=1e-4)
    assert torch.allclose(again, full, atol=1e-4)


def test_spliced_clean_losses_equal_the_full_forwards_loss_at_every_predicted_token():
    """The spliced loss unembeds only the predicting positions: each item's clean losses must be those of
    the whole model's logits (the BOS position and padding left out)."""
    import torch

    from explainers.lm.activations import encode, padded
    from explainers.lm.model import load
    from explainers.real_model.measures import spliced_losses

    lm = load(None, torch.device("cpu"), "float32")
    sequences = encode(lm.tokenizer, ["The dog slept.", "A bridge over the bay, in fog at dawn."])
    losses, count, clean = spliced_losses(lm, 5, sequences, lambda h: h, torch.device("cpu"), float("inf"))
    ids, attention = padded(sequences)
    with torch.no_grad():
        logits = lm.model(input_ids=ids, attention_mask=attention, use_cache=False).logits.float()
    for row, sequence in enumerate(sequences):
        n = len(sequence)
        expected = torch.nn.functional.cross_entropy(logits[row, 1:n - 1], ids[row, 2:n], reduction="none")
        np.testing.assert_allclose(clean[row], expected.numpy(), atol=1e-4)
    assert count == sum(len(s) - 2 for s in sequences)
    assert losses["clean"] == pytest.approx(float(np.concatenate(clean).mean()), abs=1e-5)
