"""The theme's icons without the whole Font Awesome face.

pydata-sphinx-theme draws a dozen icons with Font Awesome's solid web font (156 KB gzipped). The book
serves a subset of that face (``fonts/fa-solid-900.woff2``, made by ``tools/subset_icons.py``) under the
theme's own file name, so the theme's stylesheet is untouched and the icons look the same.
"""
from __future__ import annotations

import re
from pathlib import Path

ASSET = Path(__file__).resolve().parent / "fonts" / "fa-solid-900.woff2"
WEBFONT = Path("_static") / "vendor" / "fontawesome" / "webfonts" / "fa-solid-900.woff2"

# Every solid icon the two themes' templates, scripts and header buttons can name.
ICONS = ("magnifying-glass", "list", "sun", "moon", "circle-half-stroke", "bars", "arrow-up", "angle-left",
         "angle-right", "chevron-down", "house", "home", "file-lines", "pencil", "pencil-alt", "xmark",
         "download", "expand", "file", "file-pdf", "code", "lightbulb", "play", "rocket", "outdent")
# icon class names in a page; style classes (fa-solid, fa-lg, ...) are not icons
ICON_CLASS = re.compile(r'class="[^"]*\bfa-(?:solid|regular|brands)\b[^"]*"|class="[^"]*\bfas\b[^"]*"')
NOT_ICONS = {"solid", "regular", "brands", "lg", "sm", "xs", "fw", "spin", "pulse", "2x", "3x"}


def theme_static() -> Path:
    import pydata_sphinx_theme

    return Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"


def codepoints(css: str, names) -> dict[str, int]:
    """Each icon's code point, read from the theme's stylesheet (``.fa-NAME:before{content:"\\fXXX"}``)."""
    found = {}
    for rule in re.finditer(r'([^{}]+)\{content:"\\([0-9a-f]{4,5})"\}', css):
        selectors = {s.strip() for s in rule.group(1).split(",")}
        for name in names:
            if f".fa-{name}:before" in selectors:
                found[name] = int(rule.group(2), 16)
    return found


def missing_icons(html: str) -> set[str]:
    """The icons a page names that the subset lacks (classes the theme's stylesheet draws as icons)."""
    names = icons_in(html) - set(ICONS)
    if not names:
        return names
    return set(codepoints((theme_static() / "styles" / "pydata-sphinx-theme.css").read_text(), names))


def icons_in(html: str) -> set[str]:
    """The Font Awesome solid icons a page names."""
    names = set()
    for match in ICON_CLASS.finditer(html):
        if "fa-regular" in match.group(0) or "fa-brands" in match.group(0):
            continue
        names |= {c[3:] for c in re.findall(r"\bfa-[a-z0-9-]+", match.group(0))} - NOT_ICONS
    return names
