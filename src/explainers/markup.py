"""What a chapter's code cell hands back to show text: raw HTML, Markdown, and tables."""
from __future__ import annotations

import html


class Html:
    """What a notebook cell returns to show raw HTML (myst-nb renders text/html as-is)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text


class Markdown(str):
    """Text the chapter shows as Markdown (``{glue:md}``); still a plain string everywhere else."""

    def _repr_markdown_(self) -> str:
        return str(self)


def html_table(header, rows, css_class: str = "table") -> Html:
    """A table of plain text: every header and cell is escaped, so a value never becomes markup."""
    cells = lambda tag, values: "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in values)  # noqa: E731
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return Html(f"<table class='{html.escape(css_class)}'><thead><tr>{cells('th', header)}</tr></thead>"
                f"<tbody>{body}</tbody></table>")
