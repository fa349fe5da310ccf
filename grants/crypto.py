"""Encryption at rest for the values the database must never hold in clear.

Keys come from ``settings.FIELD_ENCRYPTION_KEYS`` (the environment variable of that name):
Fernet keys, the first of which encrypts every new value while every key decrypts. A new key
is put first; values written under the old one stay readable until
``manage.py rotate_encryption_keys`` has re-encrypted them, and only then is the old key
removed. Fernet is AES-128-CBC with an HMAC-SHA256 over the whole token, so a token that was
changed, cut, or made with a key that is no longer configured is refused with
``DecryptionError``: nothing is ever returned in its place.

With DEBUG on and no key configured (the demo, the tests), one key is derived from
``SECRET_KEY`` with HKDF-SHA256 (``settings.FIELD_ENCRYPTION_DEMO_KEY`` records that choice
when the settings load, because the test runner turns DEBUG off afterwards).
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Fixed "info" of the HKDF derivation: the demo key is bound to this purpose only.
DEMO_KEY_INFO = b"fundportal:field-encryption:demo-key"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any key of ``FIELD_ENCRYPTION_KEYS``.

    Either it was encrypted under a key that has been removed (restore that key, run
    ``rotate_encryption_keys``, then remove it), or the stored token is damaged. The message
    names the field, never the value.
    """


def generate_key() -> str:
    """A new random Fernet key (32 bytes, URL-safe base64), as text."""
    return Fernet.generate_key().decode()


def demo_key(secret_key: str) -> str:
    """The key derived from ``secret_key`` for the demo and the tests (never used in production)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DEMO_KEY_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived).decode()


def configured_keys() -> tuple[str, ...]:
    """The keys in force, current (encrypting) key first."""
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or ())
    if keys:
        return keys
    if getattr(settings, "FIELD_ENCRYPTION_DEMO_KEY", False):
        return (demo_key(settings.SECRET_KEY),)
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS is not set: make a key with `manage.py generate_encryption_key`."
    )


@functools.lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"Key number {position} of FIELD_ENCRYPTION_KEYS is not a Fernet key; make one with "
                "`manage.py generate_encryption_key`."
            ) from None
    return MultiFernet(fernets), fernets[0]


def _all_keys() -> MultiFernet:
    return _fernets(configured_keys())[0]


def _current_key() -> Fernet:
    return _fernets(configured_keys())[1]


def _undecryptable(what: str) -> DecryptionError:
    return DecryptionError(
        f"{what} cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: it was encrypted with a "
        "key that is no longer configured, or the stored value is damaged. Restore the missing key "
        "(keep it after the current one) and run `manage.py rotate_encryption_keys`."
    )


FERNET_TOKEN_START = "gAAAAA"


def encrypt(plaintext: str) -> str:
    """A Fernet token (ASCII text) of ``plaintext``, under the current key."""
    return _current_key().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str, *, what: str = "A stored value") -> str:
    """The plaintext of ``token``; ``DecryptionError`` (naming ``what``) if no key opens it."""
    try:
        return _all_keys().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise _undecryptable(what) from None


def is_token(value: str) -> bool:
    """Whether ``value`` has the form of a Fernet token (version byte 0x80, so "gAAAAA…"):
    plaintext secrets (base32, hex or digits) never do."""
    return isinstance(value, str) and value.startswith(FERNET_TOKEN_START)


def is_current(token: str) -> bool:
    """Whether ``token`` is already encrypted under the current (first) key."""
    try:
        _current_key().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate(token: str, *, what: str = "A stored value") -> str:
    """``token`` re-encrypted under the current key (its original timestamp kept)."""
    try:
        return _all_keys().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise _undecryptable(what) from None
