"""The feature browser in the built book, read as a reader reads it: permalinks, search, keys, the back
button, every screen in both themes, over HTTP and from file://, and its weight."""
from __future__ import annotations

import gzip
import json
from urllib.parse import urlparse

import numpy as np
import pytest

from browser import SCREENS, SITE, open_page

PAGE = "book/feature-browser.html"
FIRST_LOAD_GZIP = 800_000
FEATURE_GZIP = 50_000
SITE_BUDGET = 15_000_000


def data_folder():
    from explainers.feature_browser.render import published_key, SITE_FOLDER

    key = published_key(SITE)
    assert key, f"{PAGE} names no data folder"
    return SITE / SITE_FOLDER / key


def data(name: str):
    text = (data_folder() / f"{name}.js").read_text(encoding="utf-8")
    return json.loads(text[text.index(",") + 1:text.rindex(")")])


@pytest.fixture(scope="module")
def index():
    return data("index")


def shard_of(index, feature: int) -> dict:
    return data(f"f{index['features'].index(feature) // index['shard']}")


def record(index, feature: int) -> dict:
    return shard_of(index, feature)["features"][str(feature)]


def snippet_text(shard: dict, snippet) -> str:
    """A snippet's text as the data file codes it (render.code), line breaks shown as the page shows them."""
    from explainers.feature_browser.render import DIGITS

    coded, width = snippet[0], shard["width"]
    ids = [sum(DIGITS.index(c) * 64 ** (width - 1 - k) for k, c in enumerate(coded[i:i + width]))
           for i in range(0, len(coded), width)]
    return "".join(shard["strings"][t] for t in ids).replace("\n", "↵").replace("\t", "→")


def concept_feature(index, concept: str) -> int:
    """The feature the real-model page chose for ``concept`` on WordNet, from the browser's notes."""
    for f in index["noted"]:
        if any(n["concept"] == concept and n["page"] == "real-model" for n in record(index, f)["notes"]):
            return f
    raise AssertionError(f"no feature is noted as chosen for {concept}")


def opened(page, feature: int):
    page.wait_for_function("(f) => document.querySelector('#feature-browser').dataset.feature === String(f)",
                           arg=feature, timeout=10_000)


@pytest.fixture
def visit(browser, site_url):
    visits = []

    def go(hash_text="", url=None, **screen):
        visits.append(open_page(browser, (url or f"{site_url}/{PAGE}") + hash_text, **screen))
        return visits[-1]

    yield go
    for v in visits:
        assert v.problems == []
        v.page.context.close()


def test_a_permalink_opens_random_features_with_snippets_histogram_logit_lens_and_explanation(visit, index):
    rng = np.random.default_rng()
    for feature in rng.choice(index["features"], size=5, replace=False).tolist():
        page = visit(f"#feature={feature}").page
        opened(page, feature)
        view = page.locator(".fb-feature")
        assert view.locator("h3").inner_text() == f"Feature {feature}"
        pos = index["features"].index(feature)
        assert index["explanation"][pos] in view.locator(".fb-explanation").inner_text()
        shard = shard_of(index, feature)
        top = shard["features"][str(feature)]["top"]
        assert view.locator(".fb-top .fb-snippet").count() == len(top) >= 1
        first = view.locator(".fb-top .fb-snippet").first
        assert "".join(first.locator("span.t").all_inner_texts()) == snippet_text(shard, top[0])
        assert first.locator("span.fb-peak").count() == 1
        assert ("held out" if top[0][2] else "training") in first.locator(".fb-tag").inner_text()
        assert view.locator(".fb-hist rect").count() == len(record(index, feature)["hist"])
        assert view.locator(".fb-lens ol").nth(0).locator("li").count() == 10
        assert view.locator(".fb-lens ol").nth(1).locator("li").count() == 10
        assert page.locator("#feature-browser").is_visible()
        assert page.evaluate("document.querySelector('#feature-browser').getBoundingClientRect().top") < 900


def test_a_search_for_dog_lists_the_real_model_pages_dog_feature_among_the_first(visit, index):
    dog = concept_feature(index, "dog")
    page = visit().page
    opened(page, dog)  # with no address the page opens on the real-model page's dog feature
    page.locator("#fb-search").fill("dog")
    page.wait_for_selector(".fb-results h4")
    firing = [int(a.get_attribute("data-feature")) for a in page.locator(".fb-results ul").nth(0).locator("a").all()]
    promoting = [int(a.get_attribute("data-feature")) for a in page.locator(".fb-results ul").nth(1).locator("a").all()]
    assert "Fires most on “dog”" in page.locator(".fb-results").inner_text()
    assert dog in firing[:3] or dog in promoting[:3], (dog, firing, promoting)
    page.locator(f".fb-results a[data-feature='{dog}']").first.click()
    opened(page, dog)
    notes = page.locator(".fb-notes")
    assert "dogs" in notes.inner_text()
    href = notes.locator("a").first.get_attribute("href")
    target, anchor = href.split("#")
    assert f'id="{anchor}"' in (SITE / "book" / target).read_text(), f"{href} points at no section"


def test_search_finds_a_feature_by_number_and_by_its_explanation(visit, index):
    page = visit().page
    page.wait_for_selector("#feature-browser[data-feature]")
    search = page.locator("#fb-search")
    feature = index["features"][len(index["features"]) // 3]
    search.fill(str(feature))
    search.press("Enter")
    opened(page, feature)
    assert page.evaluate("location.hash") == f"#feature={feature}"
    explained = next(e for e in index["explanation"] if "topic:" in e)
    topic = explained.split("topic: ")[1].split(" (")[0]
    search.fill(f"topic: {topic}")
    # the list of the number search may still be there for a moment: wait for the new one
    page.wait_for_function("t => { const items = [...document.querySelectorAll('.fb-results li')];"
                           " return items.length > 0 && items.every(li => li.textContent.includes(t)); }",
                           arg=f"topic: {topic}")
    listed = [int(a.get_attribute("data-feature")) for a in page.locator(".fb-results li a").all()]
    assert listed and all(f"topic: {topic}" in index["explanation"][index["features"].index(f)] for f in listed)


def test_keys_step_through_live_features_and_the_back_button_returns(visit, index):
    first, second, third = index["features"][10:13]
    page = visit(f"#feature={first}").page
    opened(page, first)
    page.locator("body").click(position={"x": 5, "y": 5})  # focus on the page, not in a field
    page.keyboard.press("ArrowRight")
    opened(page, second)
    page.keyboard.press("ArrowRight")
    opened(page, third)
    assert page.evaluate("location.hash") == f"#feature={third}"
    page.keyboard.press("ArrowLeft")
    opened(page, second)
    page.go_back()
    opened(page, third)
    page.go_back()
    opened(page, second)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "fb-search"
    page.keyboard.press("ArrowRight")  # typing in the search box moves its caret, not the feature
    assert page.evaluate("document.querySelector('#feature-browser').dataset.feature") == str(second)


def test_dead_and_missing_features_say_so(visit, index):
    dead = sorted(set(range(index["d_sae"])) - set(index["features"]))
    page = visit(f"#feature={index['d_sae'] + 5}").page
    opened(page, index["d_sae"] + 5)
    assert page.locator(".fb-feature h3").inner_text() == f"No feature {index['d_sae'] + 5}"
    if dead:
        page.evaluate(f"location.hash = 'feature={dead[0]}'")
        opened(page, dead[0])
        assert "dead" in page.locator(".fb-feature").inner_text()
    shown = page.locator(".fb-feature").inner_text()
    page.evaluate("location.hash = 'feature=%3Cscript%3E'")  # not a feature's address: ignored
    page.wait_for_timeout(200)
    assert page.locator(".fb-feature").inner_text() == shown


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("how", ["http", "file"])
def test_the_page_has_no_errors_and_fits_every_screen_over_http_and_from_disk(visit, index, screen, how):
    feature = concept_feature(index, "dog")
    url = (SITE / PAGE).resolve().as_uri() if how == "file" else None
    v = visit(f"#feature={feature}", url=url, **SCREENS[screen])
    page = v.page
    opened(page, feature)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 1
    panel = ("getComputedStyle(document.querySelector('#feature-browser').closest('.cell_output .text_html')"
             " || document.body)")
    if "dark" in screen:
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert page.evaluate(f"{panel}.backgroundColor") in ("rgba(0, 0, 0, 0)", "transparent")
        ink = page.evaluate("getComputedStyle(document.querySelector('.fb-title')).color")
        assert np.mean([int(c) for c in ink[ink.index("(") + 1:ink.index(")")].split(",")[:3]]) > 150, ink


def test_first_load_and_one_features_data_stay_within_their_weights(visit, index):
    served = []
    v = visit()
    # the first visit was made before listening: open again and record every file the page loads
    page = v.page
    page.on("response", lambda r: served.append(urlparse(r.url).path))
    page.reload(wait_until="load")
    page.wait_for_selector("#feature-browser[data-feature]")
    page.wait_for_timeout(300)
    first = sum(len(gzip.compress((SITE / p.lstrip("/")).read_bytes())) for p in set(served)
                if (SITE / p.lstrip("/")).is_file())
    assert first <= FIRST_LOAD_GZIP, f"first load {first} bytes gzipped"
    served.clear()
    far = index["features"][-1]
    page.evaluate(f"location.hash = 'feature={far}'")
    opened(page, far)
    loaded = [p for p in served if p.endswith(".js")]
    assert loaded, "opening a feature of another shard loads its data file"
    assert sum(len(gzip.compress((SITE / p.lstrip("/")).read_bytes())) for p in loaded) <= FEATURE_GZIP


def test_the_browser_adds_at_most_15_mb_to_the_site_and_nothing_to_other_pages():
    folder = data_folder()
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) <= SITE_BUDGET
    assert len([p for p in folder.parent.iterdir()]) == 1  # no older copy left behind
    others = [p for p in SITE.rglob("*.html") if p != SITE / PAGE and "_static" not in p.parts]
    assert others and not [p for p in others if "_static/feature-browser" in p.read_text(errors="replace")]
