"""The version of the public pages' cache.

Public pages (home, fund index, funds, calls, standard pages) are kept whole in Django's cache for
visitors who are not signed in (``cms.page_cache``), under a key that carries this version. Any
change a public page shows — a page published or moved, a fund, call, foundation or branding
edited, a gift that changes a fund's progress — calls ``invalidate_public_pages()``, which moves
the version on once the transaction commits: entries of older versions are never read again and
simply expire. A request reads the version before it renders, so a page rendered from data older
than a commit is stored under the old version and never served after it.
"""

import time

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "public-pages:version"


def current_version() -> int:
    """The version to read and store public pages under (one cache read)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        # First use, or the cache lost the key: start from the clock, past every older version.
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def invalidate_public_pages() -> None:
    """Forget every cached public page once the current transaction commits."""
    transaction.on_commit(_next_version)


def _next_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # the key was lost: any new clock value is past the old versions
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)
