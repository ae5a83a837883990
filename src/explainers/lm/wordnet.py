"""WordNet 3.0 read from its own database files (Debian's ``wordnet-base``), with no other library.

A synset is one meaning: its lemmas, a definition, example sentences, a lexicographer file ("lexname",
such as ``noun.animal``) and hypernym links ("a dog is a canine"). The hypernym links give the book its
concept labels: every synset below ``dog.n.01`` is about dogs.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ENV = "EXPLAINERS_WORDNET"
DEFAULT_DIR = Path("/usr/share/wordnet")
INSTALL = "apt-get install wordnet-base fortunes  (or `make setup`, which does it)"
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}
# The 45 lexicographer files, numbered as in WordNet's lexnames(5WN).
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather "
    "adj.ppl").split()


class CorpusMissing(RuntimeError):
    """The text the language-model chapters read is not installed; the message names the command."""


@dataclass(frozen=True)
class Synset:
    key: str  # "n02084071": part of speech and byte offset, WordNet's own identifier
    lexname: str
    lemmas: tuple[str, ...]
    definition: str
    examples: tuple[str, ...]
    hypernyms: tuple[str, ...]  # keys, instance hypernyms included

    @property
    def text(self) -> str:
        """The synset as a line of prose: its first lemma, its definition, its examples."""
        head = self.lemmas[0].replace("_", " ")
        examples = " ".join(e[0].upper() + e[1:] + ("" if e[-1] in ".!?" else ".") for e in self.examples if e)
        return f"{head}: {self.definition}." + (f" {examples}" if examples else "")


def folder() -> Path:
    """``$EXPLAINERS_WORDNET``, else Debian's ``/usr/share/wordnet``."""
    path = Path(os.environ.get(ENV) or DEFAULT_DIR)
    if not (path / "data.noun").is_file():
        raise CorpusMissing(f"WordNet 3.0 is not installed at {path}. Install it with:  {INSTALL}"
                            f"  (or point {ENV} at a folder holding data.noun, data.verb, ...)")
    return path


def files(path: Path | None = None) -> list[Path]:
    path = path or folder()
    return [path / f"data.{name}" for name in ("noun", "verb", "adj", "adv")] + [path / "index.noun"]


_QUOTED = re.compile(r'"([^"]+)"')


def parse_line(line: str) -> Synset:
    """One line of a ``data.*`` file (wndb(5WN)): offset, lexname, lemmas, pointers, then ``| gloss``."""
    fields, _, gloss = line.partition(" | ")
    parts = fields.split()
    offset, lex, pos = parts[0], int(parts[1]), parts[2]
    n_words = int(parts[3], 16)
    lemmas = tuple(re.sub(r"\(.*\)$", "", parts[4 + 2 * i]) for i in range(n_words))
    at = 4 + 2 * n_words
    n_pointers = int(parts[at])
    hypernyms = []
    for i in range(n_pointers):
        symbol, target, target_pos = parts[at + 1 + 4 * i: at + 4 + 4 * i]
        if symbol in ("@", "@i"):
            hypernyms.append(("a" if target_pos == "s" else target_pos) + target)
    examples = tuple(e.strip() for e in _QUOTED.findall(gloss))
    definition = _QUOTED.sub("", gloss).strip().strip(";").strip()
    definition = re.sub(r"(\s*;\s*)+$", "", re.sub(r";\s*(;\s*)+", "; ", definition))
    key_pos = "a" if pos == "s" else pos
    return Synset(key_pos + offset, LEXNAMES[lex], lemmas, definition, examples, tuple(hypernyms))


def synsets(path: str | None = None) -> dict[str, Synset]:
    """Every synset of the four parts of speech, by key, in file order."""
    return _synsets(str(Path(path) if path else folder()))


@lru_cache(maxsize=2)
def _synsets(path: str) -> dict[str, Synset]:
    out = {}
    for data in files(Path(path))[:4]:
        with open(data, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.startswith(" "):  # the licence header lines start with spaces
                    synset = parse_line(line)
                    out[synset.key] = synset
    return out


def lookup(lemma: str, sense: int = 1, path: str | None = None) -> str:
    """The key of ``lemma``'s ``sense``-th noun sense (``dog``, 1 → dog.n.01)."""
    index = (Path(path) if path else folder()) / "index.noun"
    with open(index, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(lemma + " n "):
                offsets = [p for p in line.split() if len(p) == 8 and p.isdigit()]
                return "n" + offsets[sense - 1]
    raise KeyError(f"{lemma!r} is not a noun in WordNet")


@lru_cache(maxsize=2)
def _children(path: str) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for key, synset in synsets(path).items():
        for parent in synset.hypernyms:
            children.setdefault(parent, []).append(key)
    return children


def below(root: str, path: str | None = None) -> set[str]:
    """``root`` and every synset under it through hypernym links."""
    children, seen, todo = _children(str(Path(path) if path else folder())), set(), [root]
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo += children.get(key, [])
    return seen
