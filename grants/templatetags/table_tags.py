"""Tables that read on a phone, without script.

A block tag, used around a ``<table>``:

``{% labelled_table %}<table class="stack-on-phone">…</table>{% endlabelled_table %}``
    Gives every body cell a ``data-label`` with its column's header text (from the ``<thead>``,
    colspans counted), unless the cell already has one. On a phone the CSS turns each row into a
    card and shows that label above the value (``static/css/portal.css``; the admin's
    ``static/css/admin-tables.css``). The header is written once, so a renamed or translated
    column can never disagree with its labels.

For grids that must stay grids (wide money tables) the table sits instead in a scroll region a
keyboard can reach: ``{% include "includes/table_scroll_hint.html" %}<div class="table-scroll"
tabindex="0" role="region" aria-label="…">`` (``fp-scroll`` in the admin); the hint says, on
phones, that it scrolls sideways.
"""

from html import escape
from html.parser import HTMLParser

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


class _HeaderReader(HTMLParser):
    """Collects the text of each column header of the first ``<thead>`` (one entry per column)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headers: list[str] = []
        self._in_head = False
        self._cell: list[str] | None = None
        self._span = 1
        self._done = False

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        attributes = dict(attrs)
        if tag == "thead":
            self._in_head = True
        elif self._in_head and tag in ("th", "td"):
            self._cell = []
            try:
                self._span = max(1, int(attributes.get("colspan") or 1))
            except ValueError:
                self._span = 1

    def handle_endtag(self, tag):
        if self._done:
            return
        if tag == "thead":
            self._in_head = False
            self._done = True
        elif self._in_head and tag in ("th", "td") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self.headers.extend([text] * self._span)
            self._cell = None
        elif self._in_head and tag == "tr" and self.headers:
            # Only the first header row names the columns.
            self._in_head = False
            self._done = True

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


class _CellLabeller(HTMLParser):
    """Writes the HTML back unchanged, adding ``data-label`` to each body row's cells."""

    def __init__(self, headers: list[str]):
        super().__init__(convert_charrefs=False)
        self.headers = headers
        self.out: list[str] = []
        self._section = ""
        self._column = 0
        self._table_depth = 0

    def handle_starttag(self, tag, attrs):
        text = self.get_starttag_text()
        if tag == "table":
            self._table_depth += 1
        if self._table_depth == 1:
            if tag in ("thead", "tbody", "tfoot"):
                self._section = tag
            elif tag == "tr":
                self._column = 0
            elif tag in ("td", "th") and self._section in ("tbody", ""):
                names = {name for name, _value in attrs}
                column = self._column
                try:
                    self._column += max(1, int(dict(attrs).get("colspan") or 1))
                except ValueError:
                    self._column += 1
                if "data-label" not in names and column < len(self.headers) and self.headers[column]:
                    closing = "/>" if text.endswith("/>") else ">"
                    text = f'{text[: -len(closing)].rstrip()} data-label="{escape(self.headers[column])}"{closing}'
        self.out.append(text)

    def handle_startendtag(self, tag, attrs):
        self.out.append(self.get_starttag_text())

    def handle_endtag(self, tag):
        if tag == "table":
            self._table_depth -= 1
        elif tag in ("thead", "tbody", "tfoot") and self._table_depth == 1:
            self._section = "tbody" if tag == "thead" else ""
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.out.append(data)

    def handle_entityref(self, name):
        self.out.append(f"&{name};")

    def handle_charref(self, name):
        self.out.append(f"&#{name};")

    def handle_comment(self, data):
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        self.out.append(f"<!{decl}>")

    def unknown_decl(self, data):
        self.out.append(f"<![{data}]>")

    def handle_pi(self, data):
        self.out.append(f"<?{data}>")


def label_cells(html: str) -> str:
    """``html`` with every body cell of its (first-level) table labelled by its column header."""
    reader = _HeaderReader()
    reader.feed(html)
    reader.close()
    if not reader.headers:
        return html
    labeller = _CellLabeller(reader.headers)
    labeller.feed(html)
    labeller.close()
    return "".join(labeller.out)


class LabelledTableNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        return mark_safe(label_cells(self.nodelist.render(context)))


@register.tag
def labelled_table(parser, token):
    """``{% labelled_table %}<table>…</table>{% endlabelled_table %}``: cells labelled by their header."""
    nodelist = parser.parse(("endlabelled_table",))
    parser.delete_first_token()
    return LabelledTableNode(nodelist)
