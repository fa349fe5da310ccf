"""Every text a person types has a limit, shown before they reach it.

Forms of the portal mix in ``TextLimits``: each text field gets its ``maxlength`` attribute (from
``max_length``, which Django enforces on the server with a translated message, keeping what was
typed) and a hint beside it, "Up to 200 characters." Forms that add fields after their own
``__init__`` call ``show_text_limits()`` once they have. tests/grants/test_text_limits.py walks
every form class of the portal to check this.
"""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

# Emails have the limit of the standard; nobody reaches it, so no hint is shown for them.
NO_HINT = (forms.EmailField,)


def length_hint(limit: int) -> str:
    return gettext_lazy("Up to %(limit)s characters.") % {"limit": limit}


def is_typed_text(field) -> bool:
    """A text a person types (not a hidden value, a password or a choice)."""
    return isinstance(field, forms.CharField) and not isinstance(
        field.widget, (forms.HiddenInput, forms.PasswordInput)
    )


def show_limit(field) -> None:
    if not is_typed_text(field) or getattr(field, "max_length", None) is None or isinstance(field, NO_HINT):
        return
    if getattr(field, "length_hint_shown", False):
        return
    field.widget.attrs.setdefault("maxlength", str(field.max_length))
    hint = length_hint(field.max_length)
    field.help_text = format_lazy("{} {}", field.help_text, hint) if field.help_text else hint
    field.length_hint_shown = True


class TextLimits:
    """Mix into a form before ``forms.Form``/``forms.ModelForm``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.show_text_limits()

    def show_text_limits(self) -> None:
        for field in self.fields.values():
            show_limit(field)
