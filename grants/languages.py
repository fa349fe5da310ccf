"""The portal's languages, read from ``settings.LANGUAGES`` whenever they are needed, so adding a
language is configuration and a catalogue (docs/decisions.md "Adding a language")."""

from django.conf import settings
from django.utils.translation import get_language_info


def codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def own_names() -> list[tuple[str, str]]:
    """Each language in its own name ("English", "Español"): a person who cannot read the page's
    language still finds theirs. Callable as a form field's ``choices``."""
    result = []
    for code, name in settings.LANGUAGES:
        try:
            local = get_language_info(code)["name_local"]
        except KeyError:  # a code Django does not know: its configured name
            local = str(name)
        result.append((code, local[:1].upper() + local[1:]))
    return result
