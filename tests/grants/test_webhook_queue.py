# ruff: noqa: F811  (the fixtures imported from test_webhooks are used as arguments)
"""Stripe events are stored and answered at once, then applied by a task, exactly once.

With the production task backend the answer is "received" before any effect; the task (or the
sweep for events whose task was lost) applies the event under a lock on its row.
"""

import datetime

import pytest
from django.core.management import call_command
from django.test import override_settings

from grants.models import DisbursementStatus, WebhookEvent, WebhookEventStatus
from grants.payments import webhooks
from grants.services import locks
from tests.grants.test_webhooks import _event, paid_entries, post, released, sent  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

QUEUED_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@override_settings(TASKS=QUEUED_ONLY)
def test_intake_answers_received_and_queues_the_event_without_applying_it(world, client, released):
    from django_tasks import default_task_backend

    default_task_backend.clear()
    response = post(client, _event(world), foundation=world["foundation"])

    assert response.status_code == 200
    assert response.content == b"received"
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.RECEIVED
    released.refresh_from_db()
    assert released.status == DisbursementStatus.SUBMITTED
    assert paid_entries().count() == 0
    queued = default_task_backend.results
    assert [(result.task.name, result.kwargs) for result in queued] == [
        ("apply_webhook_event", {"event_id": event.pk})
    ]


@override_settings(TASKS=QUEUED_ONLY)
def test_the_task_applies_the_event_once_and_a_second_run_changes_nothing(world, client, released):
    post(client, _event(world), foundation=world["foundation"])
    event = WebhookEvent.objects.get()

    assert webhooks.apply_event(event.pk) == WebhookEventStatus.PROCESSED
    assert webhooks.apply_event(event.pk) is None  # a retried task
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSED
    released.refresh_from_db()
    assert released.status == DisbursementStatus.PAID
    assert paid_entries().count() == 1


@override_settings(TASKS=QUEUED_ONLY)
def test_a_replay_while_the_event_waits_is_acknowledged_and_not_queued_again(world, client, released):
    from django_tasks import default_task_backend

    default_task_backend.clear()
    event = _event(world)
    post(client, event, foundation=world["foundation"])
    replay = post(client, event, foundation=world["foundation"])

    assert replay.content == b"already processed"
    assert len(default_task_backend.results) == 1
    assert WebhookEvent.objects.count() == 1


@override_settings(TASKS=QUEUED_ONLY)
def test_events_whose_task_was_lost_are_applied_by_the_sweep_only_after_a_minute(
    world, client, released, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False)
    post(client, _event(world), foundation=world["foundation"])

    assert webhooks.apply_pending() == 0, "a fresh event is still with its task"
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 2, tzinfo=datetime.UTC), tick=False)
    call_command("apply_webhook_events")

    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert paid_entries().count() == 1
    assert webhooks.apply_pending() == 0


@override_settings(TASKS=QUEUED_ONLY)
def test_a_malformed_event_is_flagged_by_the_task_with_none_of_its_effects(world, client, released):
    event = _event(world)
    event["data"]["object"]["amount"] = "a lot"
    post(client, event, foundation=world["foundation"])

    assert webhooks.apply_event(WebhookEvent.objects.get().pk) == WebhookEventStatus.FLAGGED
    stored = WebhookEvent.objects.get()
    assert stored.status == WebhookEventStatus.FLAGGED
    assert "unreadable" in stored.note
    assert paid_entries().count() == 0


def test_when_queueing_fails_the_event_is_kept_received_and_stripe_still_gets_200(
    world, client, released, monkeypatch
):
    class QueueDown:
        def enqueue(self, **kwargs):
            raise ConnectionError("queue down")

    monkeypatch.setattr(webhooks, "apply_webhook_event", QueueDown())
    response = post(client, _event(world), foundation=world["foundation"])

    assert response.status_code == 200
    assert response.content == b"received"
    assert WebhookEvent.objects.get().status == WebhookEventStatus.RECEIVED
    assert paid_entries().count() == 0


class _PostgresError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _database_error(sqlstate):
    from django.db import OperationalError

    error = OperationalError("deadlock detected" if sqlstate == "40P01" else "other")
    error.__cause__ = _PostgresError(sqlstate)
    return error


@pytest.mark.django_db(transaction=True)  # a retry needs the event's own transaction, not the test's
def test_a_deadlock_is_retried_and_other_errors_are_not(monkeypatch):
    from django.db import OperationalError

    from grants.payments import webhooks as intake

    calls = []

    def once(pk):
        calls.append(pk)
        if len(calls) == 1:
            raise _database_error("40P01")
        return "processed"

    monkeypatch.setattr(intake, "_apply_event_once", once)
    assert intake.apply_event(7) == "processed"
    assert calls == [7, 7]

    monkeypatch.setattr(
        intake, "_apply_event_once", lambda pk: (_ for _ in ()).throw(_database_error("08006"))
    )
    with pytest.raises(OperationalError):
        intake.apply_event(7)

    always = []
    monkeypatch.setattr(
        intake,
        "_apply_event_once",
        lambda pk: always.append(pk) or (_ for _ in ()).throw(_database_error("40P01")),
    )
    with pytest.raises(OperationalError):
        intake.apply_event(7)
    assert len(always) == locks.DEADLOCK_RETRIES
