"""The feature browser's data: each feature's evidence checked against a direct computation on the tiny run,
the explanations against ``lm.explain`` itself, the data files against their budgets, and the renderer
kept free of torch."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

from explainers.feature_browser import explanations, notes, render
from explainers.lm import explain


def decode(text: str, width: int) -> list[int]:
    """browser.js's reading of ``render.code``."""
    return [sum(render.DIGITS.index(c) * 64 ** (width - 1 - k) for k, c in enumerate(text[i:i + width]))
            for i in range(0, len(text), width)]


def test_coded_numbers_read_back_at_any_width():
    numbers = [0, 1, 63, 64, 4095, 1234]
    assert decode(render.code(numbers, 2), 2) == numbers
    assert decode(render.code([70000, 5], 3), 3) == [70000, 5]


def data_of(script: bytes):
    """The (name, data) of one data file: ``FeatureBrowser.register(name, data);``."""
    text = script.decode()
    assert text.startswith("FeatureBrowser.register(") and text.endswith(");\n")
    name, _, body = text[len("FeatureBrowser.register("):-3].partition(",")
    return json.loads(name), json.loads(body)


# --- pieces with known answers -------------------------------------------------------------------------

@pytest.mark.parametrize("texts", [
    [[" The", " pood", "le", " bark", "ed", ".", " Dogs", "!"]],
    [["Hello", ",", " world"], ["", "x", "'s", " co", "-", "op"], [" café", "s", "\n", "A", "B", " ", "c"]],
])
def test_words_of_the_corpus_are_the_words_token_words_gives_item_by_item(texts):
    strings = sorted({t for text in texts for t in text})
    unique_of_row = np.array([strings.index(t) for text in texts for t in text])
    starts = np.cumsum([0] + [len(t) for t in texts[:-1]])
    ids, words = explanations.corpus_words(strings, unique_of_row, starts)
    expected = np.concatenate([explain.token_words(text) for text in texts])
    assert [words[i] for i in ids] == expected.tolist()


def test_the_simulator_table_predicts_what_simulate_predicts():
    lexicon = explain.Lexicon({"dog": {"noun.animal"}, "cat": {"noun.animal"}, "bread": {"noun.food"}})
    words = ["", "dogs", "dog", "cats", "bread", "ran", "puppies", "puppy"]
    sim = explanations.Simulator(words, lexicon)
    for e in (explain.Explanation(("puppy", "ran"), ""), explain.Explanation(("bread",), "noun.animal"),
              explain.Explanation((), "")):
        assert sim.fires(e).tolist() == explain.simulate(e, np.array(words, dtype=object), lexicon).tolist()


def test_evaluation_items_are_those_of_lm_explain_even_where_the_unit_fires_on_few_items():
    rng = np.random.default_rng(0)
    test = rng.random(300) < 0.3
    held = np.flatnonzero(test)
    for firing in (0, 3, 40):
        maxima = np.zeros(300)
        maxima[rng.choice(held, size=firing, replace=False)] = rng.random(firing).round(1) + 0.1  # ties too
        strongest = held[np.argsort(-maxima[held], kind="stable")][:firing]
        for seed in (1, 7):
            got = explanations.evaluation_items(strongest, held, seed)
            assert got.tolist() == explain.evaluation_items(maxima, test, seed).tolist()


def test_the_real_model_pages_records_become_notes_on_their_features():
    meta = {"concepts": {"dog": "dogs"}, "written_concepts": {"golden_gate": "the Golden Gate Bridge"},
            "detection": [{"concept": "dog", "kind": "feature", "unit": 12, "auc": 0.91, "low": 0.8, "high": 0.95},
                          {"concept": "dog", "kind": "neuron", "unit": 99, "auc": 0.7, "low": 0.6, "high": 0.8}],
            "second": {"golden_gate_feature": {"unit": 5, "auc": 0.99}, "golden_gate_neuron": {"unit": 6, "auc": 0.9}},
            "cards": [{"feature": 12, "why": "dogs (WordNet)"}]}
    found = list(notes.real_model_notes(meta))
    assert [f for f, _ in found] == [12, 5, 12]  # neurons are not features
    assert "dogs (WordNet): held-out AUC 0.910" in found[0][1]["text"]
    assert found[1][1]["anchor"] == "the-written-test-two-apples-and-a-bridge"
    assert "Golden Gate Bridge" in found[1][1]["text"] and found[2][1]["page"] == "real-model"


def test_feature_link_opens_the_browser_at_the_feature():
    assert render.feature_url(2331) == "feature-browser.html#feature=2331"
    link = render.feature_link(7, "feature <7>")
    assert 'href="feature-browser.html#feature=7"' in link and "feature &lt;7&gt;" in link
    assert render.feature_markdown(7)._repr_markdown_() == render.feature_link(7)


def test_the_renderer_and_the_facts_never_import_torch():
    code = ("import sys, explainers.feature_browser.render, explainers.feature_browser.facts, "
            "explainers.book_extension; print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_staged_files_are_published_once_and_older_copies_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLAINERS_CACHE", str(tmp_path / "cache"))
    outdir = tmp_path / "html"
    (outdir / "book").mkdir(parents=True)
    assert render.publish(outdir) is None  # a build without the page: nothing to do
    keys = [render.stage({"index.js": b"FeatureBrowser.register('index',{});\n", "f0.js": bytes([i])})
            for i in range(2)]
    assert [p.name for p in render.staging_dir().iterdir()] == [keys[1]]  # the older staged copy is gone
    page = outdir / "book" / f"{render.PAGE}.html"
    page.write_text(f'<div {render.KEY_ATTRIBUTE}="{keys[0]}"></div>')
    assert "not in" in render.publish(outdir)  # named but never staged: a warning for the build
    page.write_text(f'<div {render.KEY_ATTRIBUTE}="{keys[1]}"></div>')
    (outdir / render.SITE_FOLDER / "old").mkdir(parents=True)
    assert render.publish(outdir) is None
    published = outdir / render.SITE_FOLDER / keys[1]
    assert (published / "f0.js").read_bytes() == bytes([1])
    assert [p.name for p in (outdir / render.SITE_FOLDER).iterdir()] == [keys[1]]
    stamp = published.stat().st_mtime_ns
    assert render.publish(outdir) is None and published.stat().st_mtime_ns == stamp  # a warm build copies nothing


# --- the tiny run --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    import torch

    from explainers.feature_browser.train import evidence
    from explainers.lm.model import load
    from explainers.lm.stages import stages, tiny_config

    config = tiny_config()
    return evidence(config), stages(config), load(config.activations.model, torch.device("cpu"))


def test_every_live_feature_is_listed_once_with_its_density_and_histogram(tiny):
    ev, run, _ = tiny
    fired = run.codes.density(np.flatnonzero(run.keep))
    assert ev["feature"].tolist() == np.flatnonzero(fired > 0).tolist()
    assert np.allclose(ev["density"], fired[ev["feature"]], rtol=1e-5)
    assert ev["histogram"].sum(1).tolist() == ev["fires_on"].tolist()
    assert (ev["histogram"][:, -1] >= 1).all()  # the largest activation falls in the last bin


def test_top_snippets_are_each_features_strongest_items_around_their_peaks(tiny):
    ev, run, _ = tiny
    item_of, token = run.acts["item"], run.acts["token"]
    before, after = ev.meta["config"]["window"]
    for i in np.random.default_rng(0).choice(len(ev["feature"]), size=12, replace=False):
        column = np.where(run.keep, run.codes.column(int(ev["feature"][i])), 0)
        item_max = np.zeros(run.n_items)
        np.maximum.at(item_max, item_of, column)
        expected = [j for j in np.argsort(-item_max, kind="stable") if item_max[j] > 0][: ev.meta["config"]["top"]]
        assert ev["top_item"][i][ev["top_item"][i] >= 0].tolist() == expected
        assert float(ev["largest"][i]) == pytest.approx(column.max(), rel=1e-3)
        for slot, item in enumerate(expected):
            rows = np.flatnonzero(item_of == item)
            peak = rows[np.argmax(column[rows])]
            window = rows[(rows >= peak - before) & (rows <= peak + after)]
            shown = ev["top_tokens"][i, slot]
            assert shown[shown >= 0].tolist() == token[window].tolist()
            assert np.allclose(ev["top_values"][i, slot][shown >= 0].astype(np.float32), column[window], atol=1e-2)


def test_weak_snippets_come_from_items_where_the_feature_peaks_below_the_weak_share(tiny):
    ev, run, _ = tiny
    share = ev.meta["config"]["weak_share"]
    peaks = ev["weak_values"].astype(np.float32).max(2)
    shown = ev["weak_item"] >= 0
    assert shown.any()
    assert (peaks[shown] < share * ev["largest"][:, None].repeat(shown.shape[1], 1)[shown] + 1e-3).all()
    for i in np.flatnonzero(shown.sum(1) > 1):
        items = ev["weak_item"][i][shown[i]]
        assert len(set(items.tolist())) == len(items)  # one snippet per item


def test_logit_lens_lists_the_tokens_the_decoder_row_raises_and_lowers_most(tiny):
    ev, run, lm = tiny
    unembed = (lm.model.get_output_embeddings().weight * lm.model.model.norm.weight).detach().numpy()
    for i in (0, len(ev["feature"]) // 2, len(ev["feature"]) - 1):
        logits = unembed @ run.trained["W_dec"][ev["feature"][i]].astype(np.float32)
        z = (logits - logits.mean()) / logits.std()
        assert set(ev["up_ids"][i].tolist()) == set(np.argsort(-z)[:10].tolist())
        assert set(ev["down_ids"][i].tolist()) == set(np.argsort(z)[:10].tolist())
        assert np.allclose(ev["up_z"][i].astype(np.float32), np.sort(z)[::-1][:10], atol=0.05)


def test_the_word_index_ranks_features_by_mean_activation_on_the_word(tiny):
    ev, run, lm = tiny
    words = ev.meta["words"]
    strings = np.array(lm.tokenizer.batch_decode([[int(t)] for t in run.acts["token"]]), dtype=object)
    starts, ends = run.item_bounds()
    row_words = np.concatenate([explain.token_words(list(strings[a:b])) for a, b in zip(starts, ends)])
    w = int(np.argmax(ev["word_tokens"] * np.array([len(x) > 3 for x in words])))  # a frequent word
    rows = np.flatnonzero((row_words == words[w]) & run.keep)
    assert len(rows) == ev["word_tokens"][w]
    dense = run.codes.dense(rows).numpy()
    largest = np.zeros(run.codes.d_sae)
    largest[ev["feature"]] = ev["largest"]
    share = dense.mean(0) / np.where(largest > 0, largest, 1)
    listed = ev["word_fire"][w][ev["word_fire"][w] >= 0]
    assert listed.tolist() == np.argsort(-share, kind="stable")[: len(listed)].tolist()
    assert np.allclose(ev["word_fire_share"][w][: len(listed)].astype(np.float32), share[listed], rtol=1e-2)


def test_explanations_and_scores_are_those_of_lm_explain(tiny):
    """The real-model page's method, feature by feature (dense columns), for every live feature."""
    from explainers.lm import wordnet

    ev, run, lm = tiny
    det = run.acts["detection_items"]
    starts, ends = run.item_bounds()
    rows = np.concatenate([np.arange(starts[i], ends[i]) for i in det])
    det_starts = np.concatenate([[0], np.cumsum(ends[det] - starts[det])[:-1]])
    strings = np.array(lm.tokenizer.batch_decode([[int(t)] for t in run.acts["token"][rows]]), dtype=object)
    words = np.concatenate([explain.token_words(list(strings[a:b]))
                            for a, b in zip(det_starts, np.append(det_starts[1:], len(rows)))])
    lexicon = explain.Lexicon.from_wordnet(wordnet.synsets())
    test = run.acts["item_test"].astype(bool)[det]
    for i, f in enumerate(ev["feature"].tolist()):
        v = np.where(run.keep[rows], run.codes.column(f)[rows], 0).astype(np.float32)
        maxima = explain.item_maxima(v, det_starts)
        e = explain.explain(v, words, det_starts, explain.top_items(maxima, ~test), lexicon)
        score = explain.score(e, v, words, det_starts, explain.evaluation_items(maxima, test, seed=f), lexicon)
        assert ev.meta["explanations"][i] == e.text(), f"feature {f}"
        assert float(ev["score"][i]) == pytest.approx(score, abs=1e-5), f"feature {f}"


def test_data_files_hold_every_live_feature_within_the_weight_budgets(tiny):
    ev = tiny[0]
    files = render.data_files(ev, {str(int(ev["feature"][0])): [{"page": "real-model", "anchor": "a", "text": "t"}]})
    name, index = data_of(files["index.js"])
    assert name == "index" and index["features"] == ev["feature"].tolist()
    seen = []
    for shard in range(-(-len(index["features"]) // index["shard"])):
        name, data = data_of(files[f"f{shard}.js"])
        assert name == f"f{shard}"
        seen += [int(f) for f in data["features"]]
        for f, record in data["features"].items():
            assert len(record["hist"]) == ev.meta["config"]["bins"] and record["top"]
            i = index["features"].index(int(f))
            tokens, levels, held, _ = record["top"][0]
            stored = ev["top_tokens"][i, 0][ev["top_tokens"][i, 0] >= 0]
            text_of = dict(zip(ev["string_ids"].tolist(), ev.meta["strings"]))
            assert [data["strings"][t] for t in decode(tokens, data["width"])] == [text_of[t] for t in stored]
            shares = np.array(decode(levels, 1)) / data["levels"]
            values = ev["top_values"][i, 0][ev["top_tokens"][i, 0] >= 0].astype(np.float32)
            assert np.allclose(shares * record["max"], values, atol=record["max"] / data["levels"])
            assert held == ev["item_test"][ev["top_item"][i, 0]]
        assert len(gzip.compress(files[f"f{shard}.js"])) <= 50_000  # one feature's load
    assert seen == index["features"]
    assert data_of(files["f0.js"])[1]["features"][str(index["features"][0])]["notes"][0]["text"] == "t"
    firsts = index["word_files"]
    assert firsts == sorted(firsts) and len(firsts) == sum(name.startswith("w") for name in files)
    for i, first in enumerate(firsts):  # each file holds the words from its first pair of letters to the next's
        name, words = data_of(files[f"w{i}.js"])
        assert all(first <= w[:2] < (firsts[i + 1] if i + 1 < len(firsts) else "~") for w in words)
        assert len(gzip.compress(files[f"w{i}.js"])) <= 50_000
    listed = {w for i in range(len(firsts)) for w in data_of(files[f"w{i}.js"])[1]}
    assert {w[:2] for w in listed} == set(index["prefixes"])
    # the book's SAE has about 4,600 live features: at this many bytes each, its files stay under 15 MB
    per_feature = sum(len(v) for k, v in files.items() if k.startswith("f")) / len(index["features"])
    assert per_feature * render.FULL_DETAIL_FEATURES < 12e6


def test_a_much_wider_sae_shows_fewer_snippets_per_feature():
    assert render.snippets_shown(4608, 10, 3) == 10
    assert render.snippets_shown(16384, 10, 3) == 3
    assert render.snippets_shown(16384, 4, 1) == 1


def test_the_pages_facts_quote_the_evidence(tiny):
    from explainers.feature_browser import facts

    ev = tiny[0]
    said = facts.facts(ev)
    assert said["n_live"] == f"{len(ev['feature']):,}" and said["d_sae"] == f"{ev.meta['d_sae']:,}"
    assert said["median_score"] == pytest.approx(float(np.median(ev["score"])))
    dead = ev.meta["d_sae"] - len(ev["feature"])
    expected = f"{dead:,} features that never fired" if dead else "none is dead"
    assert expected in said["dead_sentence"]
