"""Sphinx extension for the book (``sphinx.extra_extensions`` in ``_config.yml``).

- Serves BokehJS from the site itself, only on pages that hold a chart, so the book makes no request to
  any other host. Formulas are rendered at build time with KaTeX (``explainers.mathrender``): a page with
  a formula gets KaTeX's stylesheet and fonts, a page without one loads nothing for math.
- Re-reads every chapter when the library's source or any data file it ships changed (a hardware record,
  the corpus): Sphinx only notices edits to the pages themselves, and a chapter's output depends on the
  code it calls and the files that code reads.
- Writes the standalone slide copy (HTML and PNG) of every chart into ``charts/``, redoing a chart
  only when the code or data behind it changed.
- Drops inline scripts that sphinx-thebe adds twice (a console error otherwise).
- Copies the feature browser's data files into the site, once (``feature_browser.render.publish``).
- Drops the theme's fontawesome.js (1.5 MB): it redraws the icons that the Font Awesome web font
  already draws; and serves that font cut down to the theme's icons (``explainers.icons``).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from sphinx.util import logging

from . import icons, mathrender
from .feature_browser import render as feature_browser
from .cache import file_hash

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
VENDOR = "vendor"  # under _static/; the book's own _static/ stays free of vendored JS


def bokehjs_files() -> list[Path]:
    from bokeh.util.paths import bokehjs_path

    folder = Path(bokehjs_path()) / "js"
    return [folder / "bokeh.min.js", folder / "bokeh-widgets.min.js"]


def bokeh_urls() -> list[str]:
    import bokeh

    return [f"{VENDOR}/bokeh-{bokeh.__version__}/{f.name}" for f in bokehjs_files()]


def package_data_files() -> list[Path]:
    """Every file the package ships besides its Python code: the browser code (player, theme, each chart's
    render script, styles) and the data chapters read (hardware records, the language-model corpus...)."""
    return sorted(path for path in HERE.rglob("*")
                  if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts)


def library_fingerprint() -> str:
    """Changes whenever the code behind any chart, or the data it reads, changes: a record added to or
    removed from ``hardware/records/`` re-executes the chapters on the next build."""
    import bokeh

    from .data import california_housing_files

    # every module of the package, not only those an import names: the registry imports its scenes by name
    digest = hashlib.sha256(b"".join(p.relative_to(HERE).as_posix().encode() + p.read_bytes()
                                     for p in sorted(HERE.rglob("*.py"))))
    digest.update(bokeh.__version__.encode())
    for path in package_data_files():
        digest.update(path.relative_to(HERE).as_posix().encode())
        digest.update(path.read_bytes())
    for path in california_housing_files():
        digest.update(file_hash(str(path), path.stat().st_mtime_ns, path.stat().st_size).encode())
    return digest.hexdigest()


def on_env_get_outdated(app, env, added, changed, removed):
    fingerprint = library_fingerprint()
    if getattr(env, "explainers_fingerprint", None) == fingerprint:
        return []
    env.explainers_fingerprint = fingerprint
    return sorted(set(env.found_docs) - set(removed))


def on_page_context(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if 'class="explainers-chart"' in body:
        for url in bokeh_urls():
            app.add_js_file(url, loading_method="defer")
    if 'class="katex' in body:
        app.add_css_file(mathrender.CSS_URL)
    # sphinx-thebe registers the same inline scripts twice under Sphinx 7.4 ("THEBE_JS_URL has already
    # been declared"); keep the first of each. In place: the builder appends to this very list.
    scripts = context.get("script_files")
    if isinstance(scripts, list):
        seen, unique = set(), []
        for js in scripts:
            key = (getattr(js, "filename", None) or "", getattr(js, "attributes", {}).get("body", ""))
            if key not in seen:
                seen.add(key)
                unique.append(js)
        scripts[:] = unique


def copy_vendor(outdir: Path) -> None:
    static = outdir / "_static"
    for source, url in zip(bokehjs_files(), bokeh_urls()):
        target = static / url
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            shutil.copy2(source, target)
    mathrender.copy_katex(static)


SLIDE_FILES = (".html", ".png", ".preview.png")  # each chart's files for slides: the page, its picture, a light copy


def export_charts(build_dir: Path, outdir: Path) -> None:
    from .charts import REGISTRY
    from .export import chromium, write_html, write_pngs

    store = build_dir / "charts"
    store.mkdir(parents=True, exist_ok=True)
    stamp_file = store / "fingerprints.json"
    stamps = json.loads(stamp_file.read_text()) if stamp_file.exists() else {}
    fingerprint = library_fingerprint()
    fresh = []
    for chart_id in REGISTRY:
        if stamps.get(chart_id) == fingerprint and all((store / f"{chart_id}{suffix}").exists() for suffix in SLIDE_FILES):
            continue
        logger.info(f"[explainers] writing the slide copy of {chart_id}")
        fresh.append(write_html(chart_id, store))
        stamps.pop(chart_id, None)
    if fresh:
        if chromium() is None:
            logger.warning("no Chromium found: the charts' PNG copies were not made (set EXPLAINERS_CHROMIUM)")
        else:
            write_pngs(fresh)
            stamps |= {path.stem: fingerprint for path in fresh}
    stamp_file.write_text(json.dumps(stamps, indent=1))
    target = outdir / "charts"
    target.mkdir(parents=True, exist_ok=True)
    for chart_id in REGISTRY:
        for suffix in SLIDE_FILES:
            if (store / f"{chart_id}{suffix}").exists():
                shutil.copy2(store / f"{chart_id}{suffix}", target / f"{chart_id}{suffix}")


def without_fontawesome_js(app, config):
    """Shadow the theme's asset macros with a copy that does not load ``fontawesome.js``."""
    import pydata_sphinx_theme

    macros = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static" / "webpack-macros.html"
    if not macros.exists():
        return
    kept = [line for line in macros.read_text().splitlines(keepends=True) if "scripts/fontawesome.js" not in line]
    folder = Path(app.outdir).parent / "explainers-templates"
    target = folder / "static" / "webpack-macros.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    # rewrite only on change: a newer template makes Sphinx rewrite every page
    if not target.exists() or target.read_text() != "".join(kept):
        target.write_text("".join(kept))
    config.templates_path = [str(folder), *config.templates_path]


def serve_icon_subset(outdir: Path) -> None:
    """The theme's icon font, cut down to the icons the book uses, under the theme's own file name; a page
    that names an icon outside the subset is a build warning (an error in the strict build)."""
    shutil.copy2(icons.ASSET, outdir / icons.WEBFONT)
    for page in sorted(outdir.rglob("*.html")):
        if "_static" in page.parts or "charts" in page.parts:
            continue
        missing = icons.missing_icons(page.read_text(errors="replace"))
        if missing:
            logger.warning(f"{page.relative_to(outdir)} uses Font Awesome icons the subset lacks: "
                           f"{', '.join(sorted(missing))} (add them to explainers.icons.ICONS and run tools/subset_icons.py)")


def write_favicon_ico(outdir: Path) -> None:
    """A /favicon.ico for pages without an icon link (the root redirect): browsers ask for it anyway,
    and a 404 there is an error in the console. Drawn like book/images/favicon.svg."""
    target = outdir / "favicon.ico"
    if target.exists():
        return
    from PIL import Image, ImageDraw

    icon = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((4, 2, 28, 30), radius=4, fill="#1f77b4")
    draw.rounded_rectangle((8, 6, 24, 18), radius=2, fill="#eef3fb")
    draw.ellipse((13, 9, 19, 15), fill="#d62728")
    draw.rounded_rectangle((10, 22, 22, 26), radius=1, fill="#f2c80f")
    icon.save(target, format="ICO", sizes=[(32, 32), (16, 16)])


def on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    copy_vendor(outdir)
    serve_icon_subset(outdir)
    write_favicon_ico(outdir)
    started = time.perf_counter()
    export_charts(outdir.parent, outdir)
    logger.info(f"[explainers] slide copies in {time.perf_counter() - started:.2f} seconds")
    started = time.perf_counter()
    problem = feature_browser.publish(outdir)  # the browser's data files, outside the book's own _static/
    logger.info(f"[explainers] feature browser data in {time.perf_counter() - started:.2f} seconds")
    if problem:
        logger.warning(problem)


def setup(app):
    mathrender.setup(app)
    app.connect("config-inited", without_fontawesome_js)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("html-page-context", on_page_context, priority=900)
    app.connect("build-finished", on_build_finished)
    app.add_css_file("explainers.css")
    app.connect("builder-inited", lambda app: app.config.html_static_path.append(str(HERE / "static")))
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}

