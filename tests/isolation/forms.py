"""Real form data for the isolation test's writes: what a browser would send from a form.

The form is read from the page a platform administrator gets for the same URL (so the data is
valid for the rightful people too), and a few fields are changed on top.
"""

from html import unescape
from html.parser import HTMLParser

from django.db import models
from wagtail.fields import StreamField


class _Forms(HTMLParser):
    """Collects the fields of every POST form: ``[{name: [values]}]``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, list[str]]] = []
        self.form: dict | None = None
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.form = {} if (attributes.get("method") or "").lower() == "post" else None
            if self.form is not None:
                self.forms.append(self.form)
            return
        if self.form is None:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.form.setdefault(name, []).append(
                attributes.get("value") or ("on" if kind == "checkbox" else "")
            )
        elif tag == "select" and name:
            self.select, self.select_first, self.select_chosen = name, None, False
        elif tag == "option" and self.select:
            value = attributes.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in attributes:
                self.form.setdefault(self.select, []).append(value)
                self.select_chosen = True
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_data(self, data):
        if self.textarea:
            self.text.append(data)

    def handle_endtag(self, tag):
        if self.form is None:
            return
        if tag == "select" and self.select:
            if not self.select_chosen and self.select_first is not None:
                self.form.setdefault(self.select, []).append(self.select_first)
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.form.setdefault(self.textarea, []).append(unescape("".join(self.text)).lstrip("\n"))
            self.textarea = None
        elif tag == "form":
            self.form = None


def form_fields(html: str) -> dict[str, list[str]]:
    """The fields of the largest POST form on the page (the main form, not a search or logout)."""
    parser = _Forms()
    parser.feed(html)
    forms = [form for form in parser.forms if form]
    assert forms, "no POST form on the page"
    fields = max(forms, key=len)
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def stream_fields_emptied(model: type[models.Model]) -> dict[str, str]:
    """A page form's StreamFields are built by JavaScript; without it they are sent empty."""
    return {
        f"{field.name}-count": "0" for field in model._meta.get_fields() if isinstance(field, StreamField)
    }
