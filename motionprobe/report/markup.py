"""HTML building blocks for report.html: escaping, relative links, tables.

Every string that comes from the data (class names, kinds, clip ids, paths, config values) goes through
`esc`, so a class called `<script>alert(1)</script>` is text. Markup built here from escaped parts is
marked `Html` and passes through unchanged.

>>> table(["class"], [["<b>"]])
'<table><thead><tr><th class=name>class</th></tr></thead><tbody><tr><td class=name>&lt;b&gt;</td></tr></tbody></table>'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote


class Html(str):
    """Markup already escaped (built by this module's callers from `esc`-ed parts): tables keep it as is."""


class Wide(str):
    """A table cell spanning `span` columns (its text is escaped like any other cell)."""

    span: int

    def __new__(cls, text: str, span: int) -> Wide:
        cell = super().__new__(cls, text)
        cell.span = span
        return cell


def esc(value: object) -> str:
    """Any value as HTML text (quotes escaped too, so it is safe inside attributes); `Html` stays as it is."""
    return value if isinstance(value, Html) else escape(str(value), quote=True)


def href(path: str) -> str:
    """A relative link, percent-encoded (a folder name with spaces or '#' still resolves)."""
    return esc(quote(path.replace("\\", "/"), safe="/._-"))


def paragraph(text: str, css: str | None = None) -> Html:
    return Html(f"<p{f' class={css}' if css else ''}>{esc(text)}</p>")


def bullets(items: Iterable[str]) -> Html:
    items = list(items)
    return Html("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>") if items else Html("")


def table(header: Sequence[object], rows: Iterable[Sequence[object]], name_columns: int = 1,
          groups: Sequence[tuple[str, int]] | None = None, css: str | None = None) -> Html:
    """An HTML table; cells are escaped (unless `Html`), the first `name_columns` are left-aligned.

    `groups` adds a header row above `header`: (label, number of columns it spans), left to right.
    """
    def cell(i: int, c: object, tag: str) -> str:
        if isinstance(c, Wide):
            return f'<{tag} colspan="{c.span}" class="wide">{escape(str(c), quote=True)}</{tag}>'
        return f'<{tag}{" class=name" if i < name_columns else ""}>{esc(c)}</{tag}>'

    def cells(row: Sequence[object], tag: str) -> str:
        return "".join(cell(i, c, tag) for i, c in enumerate(row))
    head = ""
    if groups:
        head = "<tr>" + "".join(f'<th colspan="{span}" class="group">{esc(label)}</th>' for label, span in groups) + "</tr>"
    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    attr = f' class="{css}"' if css else ""
    return Html(f"<table{attr}><thead>{head}<tr>{cells(header, 'th')}</tr></thead><tbody>{body}</tbody></table>")
