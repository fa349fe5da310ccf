"""Emails as tasks: kept, delivered after the change commits, retried when the mail server fails,
sent once; their state visible to the right staff only."""

import datetime
import io
import smtplib

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from grants.models import ApplicationStatus, EmailStatus, OutgoingEmail, Role
from grants.services import applications as application_service
from grants.services import outbox
from grants.services.staff import add_staff
from tests.factories import FoundationFactory, UserFactory
from tests.grants.test_admin_payments import not_found
from tests.grants.test_applications import _draft, make_setup

pytestmark = pytest.mark.django_db


class FlakyBackend(LocmemBackend):
    """A mail server that is down until told otherwise (as SMTP fails: an exception)."""

    down = True

    def send_messages(self, messages):
        if FlakyBackend.down:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail():
    FlakyBackend.down = True
    with override_settings(EMAIL_DELIVERY_BACKEND="tests.grants.test_outbox.FlakyBackend"):
        yield FlakyBackend


def _message(to="ana@example.org", subject="Hello"):
    message = EmailMultiAlternatives(subject, "Body with a sign-in link https://x/login/abc", "p@x.org", [to])
    message.attach_alternative("<p>Body</p>", "text/html")
    return message


def test_a_sent_message_is_delivered_once_and_its_text_not_kept():
    message = _message()
    message.kind = "test_kind"
    assert message.send() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Hello"
    assert mail.outbox[0].alternatives[0][0] == "<p>Body</p>"
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.kind) == (EmailStatus.SENT, 1, "test_kind")
    assert email.text == email.html == email.subject == "" and email.recipients == []
    assert email.recipient_hint == "…@example.org"
    assert outbox.deliver(email.pk) == EmailStatus.SENT
    assert len(mail.outbox) == 1  # asked again: not sent twice


def test_waiting_text_is_encrypted_in_the_database(flaky_mail):
    from django.db import connection

    _message().send()
    email = OutgoingEmail.objects.get()
    assert email.status == EmailStatus.RETRYING
    with connection.cursor() as cursor:
        cursor.execute("SELECT text, recipients FROM grants_outgoingemail WHERE id = %s", [email.pk])
        text, recipients = cursor.fetchone()
    assert "sign-in link" not in text and "ana@example.org" not in recipients


def test_a_submission_succeeds_while_the_mail_server_is_down_and_its_email_goes_out_later(
    site, flaky_mail, django_capture_on_commit_callbacks
):
    setup = make_setup(site)
    application, sections = _draft(setup)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = application_service.submit_application(
            application, sections=sections, by=setup["applicant"], actor="applicant"
        )
    assert submitted.status == ApplicationStatus.SUBMITTED
    assert mail.outbox == []
    email = OutgoingEmail.objects.get(kind="application_submitted")
    assert (email.status, email.attempts) == (EmailStatus.RETRYING, 1)
    assert "SMTPServerDisconnected" in email.last_error
    assert email.foundation_id == setup["foundation"].pk

    # Not due yet: the sweep leaves it alone.
    assert outbox.send_due() == {}
    # Still down a minute later: tried again, next wait longer.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        assert outbox.send_due() == {"retrying": 1}
    email.refresh_from_db()
    assert email.attempts == 2
    # The server is back; the sweep sends it, once.
    flaky_mail.down = False
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10)):
        call_command("send_emails", stdout=io.StringIO())
        call_command("send_emails", stdout=io.StringIO())
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 3)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [setup["applicant"].email]


def test_after_the_last_attempt_it_is_not_sent_and_staff_may_send_it_again(flaky_mail):
    _message().send()
    email = OutgoingEmail.objects.get()
    now = timezone.now()
    for wait in outbox.BACKOFF:
        now += wait + datetime.timedelta(seconds=1)
        with time_machine.travel(now):
            outbox.send_due()
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == (
        EmailStatus.FAILED,
        outbox.MAX_ATTEMPTS,
        None,
    )
    with time_machine.travel(now + datetime.timedelta(days=3)):
        assert outbox.send_due() == {}  # never again on its own
    flaky_mail.down = False
    assert outbox.send_again(email).status == EmailStatus.SENT
    assert len(mail.outbox) == 1
    with pytest.raises(outbox.NotRetryable):
        outbox.send_again(email)


def test_a_queued_message_whose_task_was_lost_is_sent_by_the_sweep():
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        _message().send()
    email = OutgoingEmail.objects.get()
    assert email.status == EmailStatus.QUEUED and mail.outbox == []
    assert outbox.send_due() == {}  # the worker may still take it
    with time_machine.travel(timezone.now() + outbox.LOST_AFTER + datetime.timedelta(seconds=1)):
        assert outbox.send_due() == {"sent": 1}
    assert len(mail.outbox) == 1


def test_a_rolled_back_change_sends_nothing():
    dummy = override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
    with dummy, pytest.raises(RuntimeError), transaction.atomic():
        _message().send()
        raise RuntimeError("the change failed")
    assert not OutgoingEmail.objects.exists()
    assert outbox.send_due(timezone.now() + datetime.timedelta(hours=1)) == {}


def _staff_client(client, role, foundation):
    user = UserFactory(is_staff=True)
    add_staff(user, foundation=foundation, role=role)
    client.force_login(user)
    return user


def test_foundation_admins_see_their_foundations_emails_only(client, flaky_mail):
    mine, other = FoundationFactory(name="Mine"), FoundationFactory(name="Other")
    for foundation, kind in ((mine, "award_offered"), (other, "canary_other_kind")):
        message = _message(to=f"x@{foundation.slug}.example")
        message.kind, message.foundation_id = kind, foundation.pk
        message.send()
    _staff_client(client, Role.FOUNDATION_ADMIN, mine)
    page = client.get("/admin/emails/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Award offered" in html and "award_offered" not in html and "Will be tried again" in html
    assert "canary_other_kind" not in html and other.slug not in html and "Account email" not in html
    theirs = OutgoingEmail.objects.get(kind="canary_other_kind")
    theirs.status = EmailStatus.FAILED
    theirs.save()
    assert not_found(client.post(f"/admin/emails/{theirs.pk}/send-again/"))
    theirs.refresh_from_db()
    assert theirs.status == EmailStatus.FAILED


def test_other_staff_may_not_open_it(client):
    foundation = FoundationFactory()
    _staff_client(client, Role.PROGRAM_OFFICER, foundation)
    response = client.get("/admin/emails/")
    assert response.status_code == 302 and response["Location"] in ("/admin/", "/en/admin/")


def test_send_again_from_the_admin(client, flaky_mail):
    foundation = FoundationFactory()
    message = _message()
    message.foundation_id = foundation.pk
    message.send()
    email = OutgoingEmail.objects.get()
    OutgoingEmail.objects.filter(pk=email.pk).update(status=EmailStatus.FAILED)
    _staff_client(client, Role.FOUNDATION_ADMIN, foundation)
    flaky_mail.down = False
    response = client.post(f"/admin/emails/{email.pk}/send-again/")
    assert response.status_code == 302
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_every_email_the_portal_sends_has_a_name_in_words():
    from pathlib import Path

    from grants.models.outbox import KIND_LABELS

    templates = Path(__file__).resolve().parents[2] / "templates" / "emails"
    kinds = {path.name.removesuffix("_subject.txt") for path in templates.glob("*_subject.txt")}
    assert kinds and kinds <= set(KIND_LABELS), kinds - set(KIND_LABELS)
