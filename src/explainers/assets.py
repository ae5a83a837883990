"""The files the package ships for the browser (player.js, theme.js, each chart's render script, the
un-mixer widget's scripts and styles), read once per process."""
from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@cache
def asset(name: str) -> str:
    """The text of a packaged file, by its path inside the package (``"regression/render.js"``)."""
    path = HERE / name
    if not path.is_file():
        raise FileNotFoundError(f"no packaged file {name!r} under {HERE}")
    return path.read_text()
