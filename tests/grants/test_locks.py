"""A person's money action is run again when PostgreSQL breaks a deadlock, as a webhook is."""

import pytest
from django.db import OperationalError, transaction

from grants.services import locks


class _PostgresError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(sqlstate):
    error = OperationalError("deadlock detected" if sqlstate == locks.DEADLOCK_SQLSTATE else "other")
    error.__cause__ = _PostgresError(sqlstate)
    return error


def _failing(times, sqlstate=locks.DEADLOCK_SQLSTATE):
    calls = []

    @locks.retry_on_deadlock
    def action(value):
        calls.append(value)
        if len(calls) <= times:
            raise _error(sqlstate)
        return value * 2

    return action, calls


@pytest.mark.django_db(transaction=True)
def test_a_deadlocked_action_is_run_again_until_it_goes_through():
    action, calls = _failing(2)
    assert action(21) == 42
    assert calls == [21, 21, 21]


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_every_time_reaches_the_person_after_the_last_try():
    action, calls = _failing(10)
    with pytest.raises(OperationalError):
        action(1)
    assert len(calls) == locks.DEADLOCK_RETRIES


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried():
    action, calls = _failing(1, sqlstate="08006")
    with pytest.raises(OperationalError):
        action(1)
    assert calls == [1]


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_the_caller_retries():
    """The caller's transaction is aborted as a whole: repeating only our part would run on it."""
    action, calls = _failing(1)
    with pytest.raises(OperationalError), transaction.atomic():
        action(1)
    assert calls == [1]


def test_money_actions_people_take_are_wrapped():
    from grants.services import awards, installments, payments, stipend_payments

    for function in (
        awards.cancel_award,
        awards.amend_award,
        awards.decline_award,
        installments.record_payment_outside_processor,
        payments._prepare,
        stipend_payments._prepare_payments,
    ):
        assert getattr(function, "__wrapped__", None) is not None, function
