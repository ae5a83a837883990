"""Writes src/explainers/fonts/fa-solid-900.woff2: the theme's Font Awesome solid face cut down to the
icons the book's theme draws (about 3 KB instead of 156 KB gzipped). The book's build copies it over the
theme's full face, so the theme's own stylesheet keeps drawing the icons.

    python tools/subset_icons.py   # needs fontTools and brotli (pip install fonttools brotli)

Run it again after a theme upgrade, or when the book uses another icon: the build fails when a page names
a Font Awesome solid icon that the subset lacks (explainers.book_extension).
"""
from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from explainers.icons import ICONS, codepoints, theme_static  # noqa: E402


def main() -> None:
    static = theme_static()
    points = codepoints((static / "styles" / "pydata-sphinx-theme.css").read_text(), ICONS)
    missing = sorted(set(ICONS) - set(points))
    if missing:
        raise SystemExit(f"the theme's stylesheet names no such icons: {', '.join(missing)}")
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(static / "vendor" / "fontawesome" / "webfonts" / "fa-solid-900.woff2"), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(set(points.values())))
    subsetter.subset(font)
    target = ROOT / "src" / "explainers" / "fonts" / "fa-solid-900.woff2"
    subset.save_font(font, str(target), options)
    print(f"{target.relative_to(ROOT)}: {len(set(points.values()))} glyphs, {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
