"""The English the language-model chapters read: everyday prose about the world, installed by the book's
setup from Debian's packages, and labelled by its own structure.

- **WordNet 3.0** (``wordnet-base``): each synset is one item of text, its definition and example
  sentences. Its hypernym tree labels it: an item below ``dog.n.01`` is about dogs. The concepts are
  fixed below, before any run; a concept with too few held-out items is dropped by the same rule.
- **Fortunes** (``fortunes``): sayings, jokes, quotations and short poems; the technical files
  (computers, Linux, Perl, Debian, ASCII art) are left out. Unlabelled.
- **Sentences written for the book** (``data/corpus.json``, CC0): a second, hand-labelled test with the
  cases WordNet cannot pose, such as Apple the fruit against Apple the company, and the Golden Gate Bridge.

Every item is held out or not by a rule on its identity (places 2, 5 and 8 of every ten), so the split
never depends on a result. Nothing is downloaded: a missing package gives one message naming the command
that installs it.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from . import wordnet

WRITTEN_FILE = Path(__file__).resolve().parent / "data" / "corpus.json"
FORTUNES_ENV = "EXPLAINERS_FORTUNES"
FORTUNES_DIR = Path("/usr/share/games/fortunes")
# Technical or non-prose fortune files: code, system administration, ASCII pictures.
FORTUNES_SKIPPED = ("ascii-art", "art", "computers", "debian", "linux", "linuxcookie", "perl", "translate-me")
TEST_PLACES = (2, 5, 8)  # an item whose number % 10 is one of these is held out (30 %)

# The WordNet concepts: label -> (description, lemma, sense). Fixed before any run.
CONCEPTS = {
    "dog": ("dogs", "dog", 1),
    "feline": ("cats and other felines", "feline", 1),
    "bird": ("birds", "bird", 1),
    "fish": ("fish", "fish", 1),
    "insect": ("insects", "insect", 1),
    "tree": ("trees", "tree", 1),
    "flower": ("flowers", "flower", 1),
    "fruit": ("fruit you eat", "edible_fruit", 1),
    "vegetable": ("vegetables", "vegetable", 1),
    "drink": ("drinks", "beverage", 1),
    "dish": ("dishes of prepared food", "dish", 2),
    "instrument": ("musical instruments", "musical_instrument", 1),
    "vehicle": ("vehicles", "vehicle", 1),
    "building": ("buildings", "building", 1),
    "clothing": ("clothing", "garment", 1),
    "disease": ("diseases", "disease", 1),
    "body_part": ("parts of the body", "body_part", 1),
    "sport": ("sports", "sport", 1),
    "weapon": ("weapons", "weapon", 1),
    "tool": ("tools", "tool", 1),
    "city": ("cities", "city", 1),
    "mineral": ("minerals", "mineral", 1),
    "colour": ("colours", "chromatic_color", 1),
}
MIN_HELD_OUT = 40  # a concept needs at least this many held-out items to be tested

# The written corpus's concepts that the chapter looks at closely.
FOCUS = ("apple_fruit", "apple_company", "dog", "cat", "golden_gate")
FAMILIES = {"apple_fruit": "apple", "apple_company": "apple", "dog": "pet", "cat": "pet"}


@dataclass(frozen=True)
class Item:
    text: str
    source: str  # "wordnet", "fortunes" or "written"
    label: str  # its concept ("" for none)
    test: bool  # held out
    key: str  # identity inside its source: a WordNet key, a fortune's file and number, a sentence number


@dataclass(frozen=True)
class CorpusConfig:
    per_concept: int = 250  # WordNet items kept per concept (all, if fewer)
    other_items: int = 4000  # WordNet items outside every concept, drawn at random
    fortunes: int = 4000  # fortunes, drawn at random
    min_held_out: int = MIN_HELD_OUT  # a concept with fewer held-out items is not tested
    seed: int = 0


def _number(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)


def held_out(key: str) -> bool:
    return _number(key) % 10 in TEST_PLACES


def _sample(items: list[Item], n: int, seed: int) -> list[Item]:
    """``n`` items in a fixed pseudo-random order (by a hash of their key and the seed), kept in order."""
    if len(items) <= n:
        return items
    ranked = sorted(range(len(items)), key=lambda i: _number(f"{seed}:{items[i].key}"))[:n]
    return [items[i] for i in sorted(ranked)]


# --- the three sources ------------------------------------------------------------------------------------

def concept_roots(path: str | None = None) -> dict[str, str]:
    """label -> the key of its root synset (a concept whose lemma this WordNet lacks is left out)."""
    roots = {}
    for label, (_, lemma, sense) in CONCEPTS.items():
        try:
            roots[label] = wordnet.lookup(lemma, sense, path)
        except (KeyError, IndexError):
            continue
    return roots


def wordnet_items(path: str | None = None) -> list[Item]:
    """Every WordNet synset as an item, labelled with the one concept above it ("" if none; synsets below
    two concepts are left out, since their label would be ambiguous)."""
    table = wordnet.synsets(path)
    labels: dict[str, list[str]] = {}
    for label, root in concept_roots(path).items():
        for key in wordnet.below(root, path):
            labels.setdefault(key, []).append(label)
    return [Item(synset.text, "wordnet", labels.get(key, [""])[0], held_out(key), key)
            for key, synset in table.items() if len(labels.get(key, [])) <= 1]


def fortunes_dir() -> Path:
    path = Path(os.environ.get(FORTUNES_ENV) or FORTUNES_DIR)
    if not (path / "people").is_file() and not any(path.glob("*.dat")):
        raise wordnet.CorpusMissing(f"The fortunes collection is not installed at {path}. Install it with:  "
                                    f"{wordnet.INSTALL}  (or point {FORTUNES_ENV} at its folder)")
    return path


def fortune_files() -> list[Path]:
    return sorted(p for p in fortunes_dir().iterdir()
                  if p.is_file() and not p.suffix and p.name not in FORTUNES_SKIPPED)


def fortune_items() -> list[Item]:
    items = []
    for path in fortune_files():
        for number, text in enumerate(path.read_text(encoding="utf-8", errors="replace").split("\n%\n")):
            text = " ".join(text.replace("%", " ").split())
            if len(text) >= 20:
                key = f"{path.name}:{number}"
                items.append(Item(text, "fortunes", "", held_out(key), key))
    return items


def written_concepts(path: Path = WRITTEN_FILE) -> dict[str, str]:
    """The written corpus's labels -> descriptions, in the file's order."""
    return {label: entry["description"] for label, entry in json.loads(path.read_text())["concepts"].items()}


def written_items(path: Path = WRITTEN_FILE) -> list[Item]:
    """The sentences written for the book; places 2, 5 and 8 of every ten in each concept are held out."""
    concepts = json.loads(path.read_text())["concepts"]
    return [Item(text, "written", label, index % 10 in TEST_PLACES, f"{label}:{index}")
            for label, entry in concepts.items() for index, text in enumerate(entry["sentences"])]


# --- the corpus ------------------------------------------------------------------------------------------

def items(config: CorpusConfig = CorpusConfig()) -> list[Item]:
    """The chapter's text: per concept up to ``per_concept`` WordNet items, ``other_items`` unlabelled
    WordNet items, ``fortunes`` fortunes, then every written sentence."""
    everything = wordnet_items()
    chosen = []
    for label in CONCEPTS:
        chosen += _sample([i for i in everything if i.label == label], config.per_concept, config.seed)
    chosen += _sample([i for i in everything if not i.label], config.other_items, config.seed)
    chosen += _sample(fortune_items(), config.fortunes, config.seed)
    return chosen + written_items()


def tested_concepts(corpus: list[Item], min_held_out: int = MIN_HELD_OUT) -> dict[str, str]:
    """The WordNet concepts with at least ``min_held_out`` held-out items in ``corpus``: label -> description."""
    held = {}
    for item in corpus:
        if item.source == "wordnet" and item.label and item.test:
            held[item.label] = held.get(item.label, 0) + 1
    return {label: CONCEPTS[label][0] for label in CONCEPTS if held.get(label, 0) >= min_held_out}


def data_files() -> list[Path]:
    """Every file the corpus is read from (for cache keys)."""
    return [*wordnet.files(), *fortune_files(), WRITTEN_FILE]
