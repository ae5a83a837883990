"""The feature browser's page and data files. No torch: it reads the ``train.evidence`` Timeline (arrays)
and the ``notes`` (JSON), and writes plain files.

The page is one HTML block (the browser's markup, its style and ``browser.js``, inlined); the data are
small JavaScript files, each a single ``FeatureBrowser.register(name, data)`` call, that the page adds as
``<script>`` tags when it needs them. A script tag loads from ``file://`` as well as from a server, where
``fetch()`` of a local file is blocked. Files:

- ``index.js`` (first load): every live feature's number, density, explanation and score, the notes;
- ``f<N>.js``: the full evidence of ``SHARD`` consecutive live features (one feature's view loads one);
- ``w<N>.js``: the word index, words by their first two letters, consecutive pairs of letters together up
  to ``WORD_FILE_BYTES`` (the index lists each file's first pair).

The notebook writes them into the cache (``staged``), under a folder named by their content's hash; the
build copies that folder into the site (``publish``, called by ``book_extension``), once.
"""
from __future__ import annotations

import hashlib
import html
import json
import shutil
from pathlib import Path

import numpy as np

from ..cache import cache_dir
from ..markup import Html, Markdown

HERE = Path(__file__).resolve().parent
PAGE = "feature-browser"  # book/feature-browser.md
SITE_FOLDER = "_static/feature-browser"  # where the data go in the built site
KEY_ATTRIBUTE = "data-feature-browser-key"
SHARD = 32  # live features per data file: about 25 KB gzipped, the load of opening one feature
WORD_FEATURES = 6  # features listed per word, each way
MIN_WORD_TOKENS = 2  # words seen once are left out of the word index (about half of the distinct words)
WORD_FILE_BYTES = 60_000  # a word file's size, about 25 KB gzipped: some 40 files rather than 400 tiny ones
# Snippets shown per feature: all of them up to this many live features, fewer beyond (a GPU build's wider
# SAE), so that the site stays within its budget of 15 MB.
FULL_DETAIL_FEATURES = 5000


def feature_url(feature: int, page_dir: str = "") -> str:
    """The address that opens the browser at ``feature``, from a page in book/ (``page_dir`` for others)."""
    return f"{page_dir}{PAGE}.html#feature={int(feature)}"


def feature_link(feature: int, text: str | None = None) -> str:
    """An HTML link to the browser at ``feature``, for the book's other pages (cards, tables)."""
    label = html.escape(text if text is not None else f"#{int(feature)}")
    return (f'<a class="fb-link" href="{feature_url(feature)}" '
            f'title="open feature {int(feature)} in the feature browser">{label}</a>')


def feature_markdown(feature: int, text: str | None = None) -> Markdown:
    """The same link for a chapter's text, glued with ``{glue:md}`` (a Markdown link to a page's fragment
    would be read as a reference to a section)."""
    return Markdown(feature_link(feature, text))


# --- the data files ---------------------------------------------------------------------------------------

def _round(values, digits: int) -> list:
    return [round(float(v), digits) for v in np.asarray(values, dtype=np.float64)]


DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"  # base 64, safe in JSON
LEVELS = len(DIGITS) - 1  # an activation is shown as one of 64 shades of its feature's largest
_DIGIT = np.array(list(DIGITS))


def code(numbers, width: int, absent=None) -> np.ndarray:
    """The last axis of ``numbers`` (non-negative integers) as one string of fixed-width base-64 digits,
    leaving out the places ``absent`` marks (at a snippet's ends): a snippet's 15 tokens take 30
    characters, where a JSON list takes about 60. browser.js ``decode`` reads them back."""
    numbers = np.asarray(numbers, dtype=np.int64)
    chars = _DIGIT[(numbers[..., None] >> (6 * np.arange(width - 1, -1, -1))) & 63]
    if absent is not None:
        chars[absent] = "."
    flat = np.ascontiguousarray(chars.reshape(*numbers.shape[:-1], -1))
    return np.char.strip(flat.view(f"<U{flat.shape[-1]}")[..., 0], ".")


def snippets_shown(n_live: int, stored: int, least: int) -> int:
    """How many of a feature's ``stored`` snippets of one kind the site holds (at least ``least``)."""
    return int(np.clip(round(stored * FULL_DETAIL_FEATURES / max(n_live, 1)), least, stored))


def feature_records(ev, notes: dict, start: int, stop: int) -> dict:
    """The data file of live features ``start..stop`` (positions in ``ev['feature']``): its own table of
    token strings, and each feature's record, its snippets as [tokens (table ids, coded), activations
    (0 to ``LEVELS`` of the feature's largest, coded), held out, source]."""
    n_live, span = len(ev["feature"]), slice(start, stop)
    shown = {name: snippets_shown(n_live, ev[f"{name}_item"].shape[1], least)
             for name, least in (("top", 3), ("weak", 1))}
    parts = {name: (ev[f"{name}_tokens"][span, :k], ev[f"{name}_values"][span, :k], ev[f"{name}_item"][span, :k])
             for name, k in shown.items()}
    lens = {name: ev[f"{name}_ids"][span] for name in ("up", "down")}
    used = np.unique(np.concatenate([t.ravel() for t, _, _ in parts.values()] + [t.ravel() for t in lens.values()]))
    used = used[used >= 0]
    table = np.asarray(ev.meta["strings"], dtype=object)[np.searchsorted(ev["string_ids"], used)].tolist()
    width = 2 if len(used) <= 64**2 else 3
    largest = ev["largest"][span].astype(np.float32)
    coded = {}
    for name, (tokens, values, items) in parts.items():
        level = np.round(values.astype(np.float32) / largest[:, None, None] * LEVELS).clip(0, LEVELS)
        coded[name] = (code(np.searchsorted(used, tokens), width, tokens < 0), code(level, 1, tokens < 0), items)
    records = {}
    for j, f in enumerate(ev["feature"][span].tolist()):
        snippets = {name: [[str(t[j, s]), str(v[j, s]), int(ev["item_test"][items[j, s]]),
                            int(ev["item_source"][items[j, s]])] for s in range(items.shape[1]) if items[j, s] >= 0]
                    for name, (t, v, items) in coded.items()}
        records[str(f)] = {
            "n": int(ev["fires_on"][start + j]), "max": round(float(largest[j]), 3),
            "hist": ev["histogram"][start + j].tolist(), **snippets,
            **{name: [[int(t), z] for t, z in zip(np.searchsorted(used, ids[j]), _round(ev[f"{name}_z"][start + j], 1))]
               for name, ids in lens.items()},
            "notes": notes.get(str(f), []),
        }
    return {"strings": table, "width": width, "levels": LEVELS, "features": records}


def word_files(ev) -> list[dict]:
    """The word index cut into files: each holds whole two-letter groups, in order, up to about
    ``WORD_FILE_BYTES``."""
    files, size = [{}], 0
    for prefix, words in sorted(word_records(ev).items()):
        grows = len(json.dumps(words, ensure_ascii=False))
        if files[-1] and size + grows > WORD_FILE_BYTES:
            files.append({})
            size = 0
        files[-1] |= words
        size += grows
    return files


def word_records(ev) -> dict[str, dict]:
    """The word index by each word's first two letters: word -> [tokens, features firing most on it,
    their mean activation as a share of their largest, features promoting it most, their logit-lens z]."""
    out: dict[str, dict] = {}
    for w in indexed_words(ev):
        fire, promote = ev["word_fire"][w][:WORD_FEATURES], ev["word_promote"][w][:WORD_FEATURES]
        share, z = ev["word_fire_share"][w][:WORD_FEATURES], ev["word_promote_z"][w][:WORD_FEATURES]
        word = ev.meta["words"][w]
        out.setdefault(word[:2], {})[word] = [int(ev["word_tokens"][w]), fire[fire >= 0].tolist(),
                                              _round(share[fire >= 0], 2), promote[promote >= 0].tolist(),
                                              _round(z[promote >= 0], 1)]
    return out


def indexed_words(ev) -> np.ndarray:
    """The words the search can look up: seen at least ``MIN_WORD_TOKENS`` times, with a feature firing."""
    words = ev.meta["words"]
    return np.flatnonzero([bool(words[w]) and ev["word_tokens"][w] >= MIN_WORD_TOKENS and ev["word_fire"][w][0] >= 0
                           for w in range(len(words))])


def index_record(ev, notes: dict, words: list[dict]) -> dict:
    """What the page loads first. It opens on the first feature the notes name (the real-model page's dog
    feature), and finds a word's file by the first two letters of each file's first word."""
    features = ev["feature"].tolist()
    return {
        "d_sae": ev.meta["d_sae"], "features": features, "shard": SHARD,
        "density": [float(f"{d:.3g}") for d in ev["density"].tolist()], "score": _round(ev["score"], 2),
        "explanation": ev.meta["explanations"], "noted": sorted(int(f) for f in notes),
        "start": int(next(iter(notes), features[0])),
        "prefixes": sorted({w[:2] for part in words for w in part}),
        "word_files": [min(part)[:2] for part in words], "sources": ev.meta["sources"],
        "window": ev.meta["config"]["window"], "weak_share": ev.meta["config"]["weak_share"],
    }


def _script(name: str, data) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"FeatureBrowser.register({json.dumps(name)},{body});\n".encode()


def data_files(ev, notes: dict) -> dict[str, bytes]:
    """Every data file, by name."""
    words = [part for part in word_files(ev) if part]
    files = {"index.js": _script("index", index_record(ev, notes, words))}
    n = len(ev["feature"])
    for shard, start in enumerate(range(0, n, SHARD)):
        files[f"f{shard}.js"] = _script(f"f{shard}", feature_records(ev, notes, start, min(n, start + SHARD)))
    for i, part in enumerate(words):
        files[f"w{i}.js"] = _script(f"w{i}", part)
    return files


# --- staging and publishing --------------------------------------------------------------------------------

def staging_dir() -> Path:
    return cache_dir() / "feature-browser"


def stage(files: dict[str, bytes]) -> str:
    """Write the files into the cache under their content's hash (once), leaving no older copy; the key."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    key = digest.hexdigest()[:16]
    folder = staging_dir() / key
    if not folder.exists():
        tmp = staging_dir() / f"{key}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, content in files.items():
            (tmp / name).write_bytes(content)
        tmp.rename(folder)
    for old in staging_dir().iterdir():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    return key


def published_key(outdir: Path) -> str | None:
    page = outdir / "book" / f"{PAGE}.html"
    if not page.exists():
        return None
    text = page.read_text(encoding="utf-8", errors="replace")
    at = text.find(KEY_ATTRIBUTE + '="')
    return text[at + len(KEY_ATTRIBUTE) + 2: text.index('"', at + len(KEY_ATTRIBUTE) + 2)] if at >= 0 else None


def publish(outdir: Path) -> str | None:
    """Copy the data files the built page names into the site (nothing when they are there already), and
    remove older copies. Returns a problem to report, or None."""
    key = published_key(outdir)
    if key is None:
        return None
    target_root = outdir / SITE_FOLDER
    target = target_root / key
    if not target.exists():
        source = staging_dir() / key
        if not source.exists():
            return (f"the feature browser's data files {key} are not in {staging_dir()}: "
                    f"rebuild with book/{PAGE}.md re-executed")
        shutil.copytree(source, target_root / f"{key}.part", dirs_exist_ok=True)
        (target_root / f"{key}.part").rename(target)
    for old in target_root.iterdir():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    return None


# --- the page ---------------------------------------------------------------------------------------------

def page(ev, notes: dict) -> Html:
    """The browser, as the page shows it: markup, style and script; its data staged for the build."""
    key = stage(data_files(ev, notes))
    style = (HERE / "browser.css").read_text()
    script = (HERE / "browser.js").read_text().replace("</script", "<\\/script")  # inline: nothing may end it
    return Html(
        f"<style>{style}</style>"
        f'<div id="feature-browser" class="fb" {KEY_ATTRIBUTE}="{key}" data-folder="{SITE_FOLDER}/{key}/">'
        f"<noscript><p>The feature browser needs JavaScript.</p></noscript></div>"
        f"<script>{script}</script>")
