"""Model fields whose values are encrypted in the database (see ``grants.crypto``).

The column is plain text holding a Fernet token; the model attribute holds the value itself
(a dict for ``EncryptedJSONField``, a string for ``EncryptedTextField``). Encryption happens
when a value is written (``save``, ``update``, ``bulk_update``), decryption when a row is read,
so raw SQL and database dumps show only tokens.

What follows from that:

- Not queryable by content. Every write makes a different token (random IV), so equality,
  ``contains``, JSON key lookups, ordering or indexes on these columns can mean nothing: only
  ``isnull`` is allowed, any other lookup is a ``FieldError``. Select rows by other columns and
  read the values in Python.
- ``EncryptedJSONField`` encrypts every value, the empty dict included: the database does not
  even tell which rows hold an answer. Setting ``{}`` (e.g. when erasing answers) stores a token
  of ``{}``.
- ``EncryptedTextField`` stores the empty string as an empty string (meaning "not set": that a
  secret is missing is not a secret) and ``None`` as NULL; any other text is encrypted.
- A value that no configured key opens raises ``grants.crypto.DecryptionError`` on read,
  naming the field: it is never replaced by an empty value.
- ``dumpdata`` writes decrypted values, like any read through the application; back up the
  database itself (tokens) instead.
"""

import json
from collections.abc import Iterator

from django import forms
from django.apps import apps
from django.core import checks, exceptions
from django.db import models
from django.utils.translation import gettext_lazy as _

from grants import crypto


class EncryptedField(models.Field):
    """Base of the encrypted fields: a text column holding a token; subclasses say how a value
    becomes text (``to_plaintext``) and back (``from_plaintext``)."""

    def get_internal_type(self):
        return "TextField"

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.unique or self.db_index or self.primary_key:
            errors.append(
                checks.Error(
                    "Encrypted fields cannot be unique, indexed or a primary key: every write "
                    "produces a different token.",
                    obj=self,
                    id="grants.E001",
                )
            )
        return errors

    def get_lookup(self, lookup_name):
        # Only "is there a value at all" can be asked of a column of random-looking tokens.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, name):
        return None

    @property
    def what(self) -> str:
        model = getattr(self, "model", None)
        if model is None:
            return f"The value of {self.name}"
        return f"The value of {model._meta.label}.{self.name}"

    def to_plaintext(self, value) -> str:
        raise NotImplementedError

    def from_plaintext(self, text: str):
        raise NotImplementedError

    def stored_clear(self, value) -> bool:
        """Whether ``value`` is kept as is rather than encrypted (only ``None`` by default)."""
        return value is None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if self.stored_clear(value):
            return value
        return crypto.encrypt(self.to_plaintext(value))

    def from_db_value(self, value, expression, connection):
        if self.stored_clear(value):
            return value
        return self.from_plaintext(crypto.decrypt(value, what=self.what))


class EncryptedJSONField(EncryptedField):
    """A JSON value (usually a dict) encrypted as one token. See the module's notes."""

    description = _("A JSON object, encrypted in the database")
    empty_values = [None, "", [], (), {}]

    def to_plaintext(self, value) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def from_plaintext(self, text: str):
        return json.loads(text)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        try:
            self.to_plaintext(value)
        except TypeError:
            raise exceptions.ValidationError(
                _("Value must be valid JSON."), code="invalid", params={"value": value}
            ) from None

    def value_to_string(self, obj):
        return self.value_from_object(obj)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})


class EncryptedTextField(EncryptedField):
    """A secret string (API key, signing secret) encrypted as one token. See the module's notes.

    Its form field never renders the stored value back (a password input left empty).
    """

    description = _("Text, encrypted in the database")

    def stored_clear(self, value) -> bool:
        return value is None or value == ""

    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def to_plaintext(self, value) -> str:
        return self.to_python(value)

    def from_plaintext(self, text: str) -> str:
        return text

    def formfield(self, **kwargs):
        defaults = {
            "form_class": forms.CharField,
            "widget": forms.PasswordInput(render_value=False),
            "strip": True,
        }
        return super().formfield(**{**defaults, **kwargs})


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedField]]:
    """Every encrypted column of every installed model, as (model, field) pairs."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedField):
                yield model, field
