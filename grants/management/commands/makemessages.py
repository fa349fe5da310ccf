"""``makemessages`` that also extracts the portal's ``_t(…)`` calls.

Modules that need both a lazy ``_`` (for class attributes) and an eager gettext import the eager
one as ``_t``; xgettext knows only Django's own keywords, so without this the strings in ``_t``
stayed out of the catalogue and showed in English in every language.
"""

from django.core.management.commands.makemessages import Command as MakeMessagesCommand


class Command(MakeMessagesCommand):
    xgettext_options = [*MakeMessagesCommand.xgettext_options, "--keyword=_t"]
