"""The "Charts for slides" page: every chart with its files and a copy-paste embed snippet."""
from __future__ import annotations

import html

from .charts import REGISTRY
from .embed import CHARTS_URL, Html


def snippet(chart_id: str, title: str) -> str:
    return (f'<iframe src="{chart_id}.html" title="{html.escape(title)}" '
            'width="1100" height="760" style="border:0"></iframe>')


def catalogue() -> Html:
    items = []
    for chart_id, entry in REGISTRY.items():
        items.append(
            f"<section class='explainers-slide-entry'><h3 id='slides-{chart_id}'>{html.escape(entry.title)}</h3>"
            f"<p>Id <code>{chart_id}</code>, shown in <a href='{entry.page}.html'>{entry.page}</a>. "
            f"<a href='{CHARTS_URL}{chart_id}.html' download>Download the HTML file</a> · "
            f"<a href='{CHARTS_URL}{chart_id}.png' download>Download the PNG</a></p>"
            f"<a href='{CHARTS_URL}{chart_id}.png'><img src='{CHARTS_URL}{chart_id}.preview.png' "
            f"alt='{html.escape(entry.title)}, at the end of its run (opens the full-size PNG)' loading='lazy' "
            "style='max-width:100%;border:1px solid var(--pst-color-border,#ccc)'></a>"
            "<p>Embed it (with the file beside your slides):</p>"
            f"<pre><code>{html.escape(snippet(chart_id, entry.title))}</code></pre></section>"
        )
    return Html("".join(items))
