"""Choice fields for lists' filter panels: options read in one query and written without templates.

A staff list's filter panel has several selects; Django reads each one's options through a
server-side cursor on PostgreSQL and writes every option through two templates, a measurable
part of the officers' list. The markup is exactly Django's (``tests/grants/test_filter_choices.py``).
"""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class ChoicesInOneQuery(forms.models.ModelChoiceIterator):
    """A choice field's options read with one plain query.

    Django streams them with ``QuerySet.iterator()``, which on PostgreSQL is a server-side cursor
    (declare, fetch, close: three round trips, and a materialised cursor outside a transaction) —
    for the few options of a list's filter, one query is cheaper.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class OptionsInPythonSelect(forms.Select):
    """Django's ``<select>``, its options written in Python rather than through two templates
    each. Same markup."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            html = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((option["value"], _attributes(option["attrs"]), option["label"]) for option in options),
            )
            parts.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, html) if group_name else html
            )
        return format_html('<select name="{}"{}>{}</select>', widget["name"], _attributes(widget["attrs"]),
                           mark_safe("".join(parts)))  # fmt: skip


def _attributes(attrs: dict) -> str:
    """HTML attributes as Django's ``attrs.html`` writes them: in order, ``True`` as a bare name,
    ``False`` left out."""
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


class ModelChoiceField(forms.ModelChoiceField):
    """Django's ``ModelChoiceField`` with its options in one query and written in Python."""

    iterator = ChoicesInOneQuery
    widget = OptionsInPythonSelect
