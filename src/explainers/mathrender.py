"""Formulas rendered to HTML at build time with KaTeX (npm's ``katex``), so a page runs no math code.

The book's formulas become KaTeX's HTML (with MathML for screen readers) while Sphinx writes each page;
a page with a formula gets KaTeX's stylesheet, whose fonts the browser fetches only for the glyphs
the page uses. A page without a formula loads nothing for math. A formula KaTeX cannot parse fails the
build with KaTeX's message.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
from pathlib import Path

from docutils import nodes

HERE = Path(__file__).resolve().parent
KATEX_ENV = "EXPLAINERS_KATEX"
RENDERER = "katex"
CSS_URL = "vendor/katex/katex.min.css"  # under _static/


class MathError(RuntimeError):
    pass


def katex_dir() -> Path:
    """npm's katex package folder: ``$EXPLAINERS_KATEX``, else the copy `make` installs under ``.vendor/``."""
    if os.environ.get(KATEX_ENV):
        return Path(os.environ[KATEX_ENV])
    return HERE.parents[1] / ".vendor" / "node_modules" / "katex"


class KaTeX:
    """One node process for the whole build: a request per formula, answered in order."""

    def __init__(self, folder: Path):
        node = shutil.which("node")
        if node is None:
            raise MathError("node is needed to render the book's formulas with KaTeX: install Node.js")
        if not (folder / "package.json").exists():
            raise MathError(f"KaTeX not found at {folder}: run `make setup`, or set {KATEX_ENV} to npm's katex folder")
        self.process = subprocess.Popen([node, str(HERE / "katex_render.js"), str(folder)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self.rendered: dict[tuple[str, bool], str] = {}
        atexit.register(self.close)

    def render(self, tex: str, display: bool) -> str:
        key = (tex, display)
        if key not in self.rendered:
            self.process.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
            self.process.stdin.flush()
            answer = json.loads(self.process.stdout.readline() or '{"error": "KaTeX stopped"}')
            if "error" in answer:
                raise MathError(f"{answer['error']} (in the formula {tex!r})")
            self.rendered[key] = answer["html"]
        return self.rendered[key]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=10)


_katex: KaTeX | None = None


def katex() -> KaTeX:
    global _katex
    if _katex is None:
        _katex = KaTeX(katex_dir())
    return _katex


def display_tex(node) -> str:
    """The TeX of a display formula, grouped as Sphinx's MathJax renderer groups it: paragraphs of a
    block become aligned rows; a block with line breaks and no environment of its own is aligned."""
    latex = node.astext()
    if node.get("nowrap"):
        return latex
    parts = [part for part in latex.split("\n\n") if part.strip()]
    if len(parts) > 1:
        return r"\begin{aligned}" + r"\\".join(parts) + r"\end{aligned}"
    if r"\\" in latex and r"\begin" not in latex:
        return r"\begin{aligned}" + latex + r"\end{aligned}"
    return latex


def visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(katex().render(node.astext(), display=False))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node.get("number"):
        raise MathError("the book's KaTeX renderer does not number formulas: drop the formula's label")
    self.body.append(katex().render(display_tex(node), display=True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def copy_katex(static: Path) -> None:
    """KaTeX's stylesheet and its woff2 fonts into ``_static/vendor/katex`` (the only format it needs:
    every browser that runs the charts reads woff2)."""
    source = katex_dir() / "dist"
    target = static / "vendor" / "katex"
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "katex.min.css", target / "katex.min.css")
    for font in (source / "fonts").glob("*.woff2"):
        if not (target / "fonts" / font.name).exists():
            shutil.copy2(font, target / "fonts" / font.name)


def setup(app):
    app.add_html_math_renderer(RENDERER, (visit_math, None), (visit_displaymath, None))
