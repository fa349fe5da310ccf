"""Row locks: the one order every money action takes them in, and retrying a broken deadlock.

The lock order (docs/decisions.md, "One lock order"): a webhook event's row; then the award; its
installments (by number); a stipend batch; its payments; the disbursement; a donation and its
monthly gift; the fund (``ledger.lock_fund``); the foundation (reference and receipt numbers).
A service that needs several of these takes them in this order, so two people (or a person and
a Stripe event) acting on the same money queue up instead of deadlocking.

PostgreSQL can still break a deadlock among rows locked implicitly (foreign-key checks take
KEY SHARE locks on the rows they point at). It aborts one transaction ("deadlock detected",
SQLSTATE 40P01); the documented remedy is to run it again, which ``retry_on_deadlock`` does —
for a person's action as for a webhook event.
"""

import functools
import logging

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

DEADLOCK_RETRIES = 3
DEADLOCK_SQLSTATE = "40P01"


def is_deadlock(error: BaseException) -> bool:
    return getattr(getattr(error, "__cause__", None), "sqlstate", None) == DEADLOCK_SQLSTATE


def retry_on_deadlock(function):
    """Run ``function`` again (up to ``DEADLOCK_RETRIES`` times in all) when PostgreSQL aborts its
    transaction to break a deadlock. Only a call that owns its transaction is retried: inside a
    caller's transaction the abort belongs to the caller, which must retry itself."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if connection.in_atomic_block:
            return function(*args, **kwargs)
        for attempt in range(DEADLOCK_RETRIES):
            try:
                return function(*args, **kwargs)
            except OperationalError as error:
                if not is_deadlock(error) or attempt == DEADLOCK_RETRIES - 1:
                    raise
                logger.warning("%s: deadlock, running it again", function.__qualname__)
        return None  # not reached

    return wrapper
