"""Light pages: formulas rendered at build time, the icon font cut down, legends out of the frame repaint."""
from __future__ import annotations

import subprocess
import sys

import pytest
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, GlyphRenderer
from docutils import nodes

from explainers import icons, mathrender
from explainers.figure import SWATCH_TAG, book_figure, steady_legends


def moving_chart():
    fig = book_figure("t", 200)
    fig.scatter([1, 2], [3, 4], legend_label="data")  # static: keeps its renderer
    moving = ColumnDataSource({"x": [], "y": []})
    fig.scatter("x", "y", source=moving, size=12, color="red", legend_label="now", level="overlay")
    path = ColumnDataSource({"xs": [], "ys": []})
    fig.multi_line("xs", "ys", source=path, color="gold", legend_label="path", level="overlay")
    fig.legend.level = "overlay"
    return fig, moving, path


def test_legend_entries_of_moving_marks_name_still_swatches():
    fig, moving, path = moving_chart()
    steady_legends(column(fig))
    items = {item.label.value: item for item in fig.legend[0].items}
    assert fig.legend[0].level == "annotation"
    assert items["data"].renderers[0].level != "overlay"  # a static renderer keeps its entry
    for label, source in (("now", moving), ("path", path)):
        swatch = items[label].renderers[0]
        assert SWATCH_TAG in swatch.tags and not swatch.visible
        assert swatch.data_source is not source and swatch in fig.renderers
        # one row, which the legend needs to draw the swatch; a multi-line's row is a line
        assert all(len(v) == 1 for v in swatch.data_source.data.values())
    assert items["path"].renderers[0].data_source.data["xs"] == [[0.0, 0.0]]
    assert items["now"].renderers[0].glyph is next(r for r in fig.renderers if r.data_source is moving).glyph


def test_steady_legends_twice_adds_no_second_swatch():
    fig, _, _ = moving_chart()
    steady_legends(fig)
    count = len([r for r in fig.renderers if isinstance(r, GlyphRenderer)])
    steady_legends(fig)
    assert len([r for r in fig.renderers if isinstance(r, GlyphRenderer)]) == count


def test_display_formulas_are_grouped_as_sphinx_groups_them():
    def block(tex, nowrap=False):
        return nodes.math_block(tex, tex, nowrap=nowrap)

    assert mathrender.display_tex(block("a = b")) == "a = b"
    assert mathrender.display_tex(block("a = b\n\nc = d")) == r"\begin{aligned}a = b\\c = d\end{aligned}"
    assert mathrender.display_tex(block(r"a &= b \\ c &= d")) == r"\begin{aligned}a &= b \\ c &= d\end{aligned}"
    aligned = r"\begin{aligned} a &= b \\ c &= d \end{aligned}"
    assert mathrender.display_tex(block(aligned)) == aligned
    assert mathrender.display_tex(block("x \\\\ y", nowrap=True)) == "x \\\\ y"


def test_katex_renders_at_build_time_and_reports_bad_tex():
    html = mathrender.katex().render(r"\hat y = w \cdot x + b", display=True)
    assert 'class="katex-display"' in html and "<math" in html  # MathML for screen readers too
    with pytest.raises(mathrender.MathError, match=r"frac\{1"):
        mathrender.katex().render(r"\frac{1", display=False)


def test_a_page_with_a_formula_is_rendered_without_math_code(tmp_path):
    (tmp_path / "conf.py").write_text(
        'extensions = ["myst_parser", "explainers.mathrender"]\n'
        'myst_enable_extensions = ["dollarmath"]\nhtml_math_renderer = "katex"\n')
    (tmp_path / "index.md").write_text("# Page\n\nInline $w^\\ast$ and\n\n$$L = \\frac{1}{N}\\sum_i x_i .$$\n")
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "-b", "html", str(tmp_path), str(tmp_path / "out")],
                   check=True)
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.count('class="katex"') == 2 and "katex-display" in page
    assert "mathjax" not in page.lower().replace("mathjax_ignore", "")


def test_every_icon_of_the_theme_has_a_glyph_in_the_subset():
    css = (icons.theme_static() / "styles" / "pydata-sphinx-theme.css").read_text()
    points = icons.codepoints(css, icons.ICONS)
    assert set(points) == set(icons.ICONS)
    assert icons.ASSET.exists() and icons.ASSET.stat().st_size < 8_000  # the full face is 156 KB gzipped


def test_icons_named_in_a_page_are_found():
    page = ('<i class="fa-solid fa-magnifying-glass"></i><span class="fa-solid fa-lg fa-bars"></span>'
            '<i class="fa-brands fa-github"></i><i class="fas fa-rocket"></i>')
    assert icons.icons_in(page) == {"magnifying-glass", "bars", "rocket"}


def test_a_page_naming_an_icon_outside_the_subset_is_caught():
    assert icons.missing_icons('<i class="fa-solid fa-magnifying-glass fa-lg"></i>') == set()
    assert icons.missing_icons('<i class="fa-solid fa-anchor"></i>') == {"anchor"}
