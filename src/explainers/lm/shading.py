"""HTML for the language-model chapters: tokens shaded by a unit's activation, and plain tables.
No torch here: the charts and the facts import it."""
from __future__ import annotations

import html

from ..markup import Html

# Token shading: red for positive activations, blue for negative; alpha carries the size, so the text
# stays readable on the light page and the dark page alike.
STYLE = """<style>
.lm-tokens { line-height: 1.9; font-size: 0.95em; margin: 0.2rem 0; }
.lm-tokens span.t { border-radius: 3px; padding: 1px 0; white-space: pre-wrap; }
.lm-label { font-size: 0.8em; opacity: 0.75; margin-right: 0.5em; font-variant: small-caps; }
.lm-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 0.8rem; }
.lm-card { border: 1px solid rgba(128,128,128,0.45); border-radius: 6px; padding: 0.6rem 0.8rem; }
.lm-card h4 { font-size: 1rem; margin: 0 0 0.3rem 0; }
.lm-card .lm-meta { font-size: 0.82em; opacity: 0.85; margin-bottom: 0.3rem; }
.lm-card svg { display: block; width: 100%; height: 56px; color: inherit; }
.lm-card .lm-tokens { font-size: 0.86em; border-top: 1px dashed rgba(128,128,128,0.35); }
.lm-card h4 { color: inherit; }
.lm-scroll { overflow-x: auto; }
table.lm-table td, table.lm-table th { padding: 0.2rem 0.5rem; }
table.lm-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>"""


def lm_html(body: str) -> Html:
    """HTML for a language-model chapter: the shared style sheet and the block that carries it."""
    return Html(STYLE + f'<div class="lm-html">{body}</div>')


def _shade(value: float, scale: float) -> str:
    if scale <= 0 or value == 0:
        return "transparent"
    alpha = min(1.0, abs(value) / scale) * 0.75
    return f"rgba(214,39,40,{alpha:.2f})" if value > 0 else f"rgba(31,119,180,{alpha:.2f})"


def _visible(token: str) -> str:
    """Line breaks inside a snippet become a visible mark, so a card keeps one line per snippet."""
    return token.replace("\n", "↵").replace("\t", "→")


def shaded_tokens(tokens, values, scale: float, label: str = "") -> str:
    spans = "".join(
        f'<span class="t" style="background:{_shade(v, scale)}" title="{v:.2f}">{html.escape(_visible(t))}</span>'
        for t, v in zip(tokens, values))
    tag = f'<span class="lm-label">{html.escape(label)}</span>' if label else ""
    return f'<div class="lm-tokens">{tag}{spans}</div>'


def table(headers, rows, numeric=()) -> Html:
    """A plain HTML table; columns whose index is in ``numeric`` are right-aligned."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td class='num'>{c}</td>" if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return lm_html(f"<div class='lm-scroll'><table class='table lm-table'><thead><tr>{head}</tr></thead>"
                 f"<tbody>{body}</tbody></table></div>")
