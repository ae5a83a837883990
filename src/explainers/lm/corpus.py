"""The chapter's text: labelled sentences written for the book, and general text that ships with Python.

The written corpus (``data/corpus.json``) gives each sentence one concept label: those labels are the
ground truth the chapter scores neurons and SAE features against. Places 2, 5 and 8 of every ten
sentences of a concept are held out (30 %). The general text is the standard library's ``pydoc_data`` topics (Python's
own reference documentation), cut into fixed-length pieces; a fixed share of it is held out too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CORPUS_FILE = Path(__file__).resolve().parent / "data" / "corpus.json"
TEST_PLACES = (2, 5, 8)  # i % 10 in TEST_PLACES: held out
# Pairs of concepts that are related (same family): a neuron firing for both is not surprising.
FAMILIES = {"apple_fruit": "apple", "apple_company": "apple", "dog": "pet", "cat": "pet"}
FOCUS = ("apple_fruit", "apple_company", "dog", "cat", "golden_gate")


@dataclass(frozen=True)
class Sentence:
    text: str
    label: str
    test: bool


def _load(path: Path) -> dict:
    return json.loads(path.read_text())["concepts"]


def concepts(path: Path = CORPUS_FILE) -> dict[str, str]:
    """label -> description, in the file's order."""
    return {label: entry["description"] for label, entry in _load(path).items()}


def sentences(path: Path = CORPUS_FILE) -> list[Sentence]:
    """Every sentence with its label; places 2, 5 and 8 of every ten in each concept are held out."""
    return [Sentence(text, label, index % 10 in TEST_PLACES)
            for label, entry in _load(path).items() for index, text in enumerate(entry["sentences"])]


def general_text(min_chars: int = 0) -> str:
    """Python's reference documentation as plain text (``pydoc_data.topics``, in every CPython).

    A run that wants more text than that (a GPU run) goes on with the standard library's own source
    files, in a fixed order, until it has ``min_chars`` characters.
    """
    import sysconfig
    from pydoc_data.topics import topics

    parts = [topics[name] for name in sorted(topics)]
    size = sum(map(len, parts))
    if size < min_chars:
        for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
            parts.append(path.read_text(errors="replace"))
            size += len(parts[-1])
            if size >= min_chars:
                break
    return "\n\n".join(parts)


def general_files() -> list[Path]:
    import pydoc_data.topics

    return [Path(pydoc_data.topics.__file__)]
