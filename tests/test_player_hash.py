"""The player's permalink parser, run where it runs: in Chromium."""
import pytest

from explainers.assets import HERE

SPEC = {"id": "one-neuron", "steps": [0, 10, 20, 30, 40], "choices": {"lr": ["0.02", "0.1", "0.45"]}}


@pytest.fixture(scope="module")
def page(browser):
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(path=str(HERE / "player.js"))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    assert not errors
    page.close()


def parse(page, hash_text, spec=SPEC):
    return page.evaluate("([h, s]) => ExplainersPlayer.parseHash(h, s)", [hash_text, spec])


def test_well_formed_hash_picks_run_and_step(page):
    assert parse(page, "#one-neuron.lr=0.45&step=20") == {"frame": 2, "choices": {"lr": 2}}


def test_step_maps_to_last_frame_at_or_before_it_and_is_clamped(page):
    assert parse(page, "#one-neuron.step=25")["frame"] == 2
    assert parse(page, "#one-neuron.step=999999999")["frame"] == 4
    assert parse(page, "#one-neuron.step=0")["frame"] == 0


def test_numeric_choice_matches_by_value(page):
    assert parse(page, "#one-neuron.lr=0.450")["choices"] == {"lr": 2}


def test_other_charts_hash_is_not_ours(page):
    assert parse(page, "#cartpole.step=3") is None
    assert parse(page, "#one-neuron-2.step=3") is None


@pytest.mark.parametrize("hash_text", [
    "", "#", "#one-neuron", "#one-neuron.", "#one-neuron.step=-5", "#one-neuron.step=1e3", "#one-neuron.step=",
    "#one-neuron.step=12abc", "#one-neuron.lr=7", "#one-neuron.lr=<script>", "#one-neuron.__proto__=1",
    "#one-neuron.constructor=0.1", "#one-neuron.lr=%3Cimg%3E", "#one-neuron.step=-1&lr=x", "#one-neuron.===&&&",
    "#one-neuron." + "a=1&" * 300, "#one-neuron.lr=NaN&step=Infinity", "#one-neuron.toString=0.1",
])
def test_malformed_hash_is_ignored_never_an_error(page, hash_text):
    result = parse(page, hash_text)
    assert result is None or result == {"frame": None, "choices": {}}


def test_non_string_input_is_ignored(page):
    assert page.evaluate("ExplainersPlayer.parseHash(null, {id: 'x', steps: [0]})") is None
    assert page.evaluate("ExplainersPlayer.parseHash(42, {id: 'x', steps: [0]})") is None


def test_format_and_parse_round_trip(page):
    text = page.evaluate("([s]) => ExplainersPlayer.formatHash(s, 3, {lr: 1})", [SPEC])
    assert text == "#one-neuron.lr=0.1&step=30"
    assert parse(page, text) == {"frame": 3, "choices": {"lr": 1}}
