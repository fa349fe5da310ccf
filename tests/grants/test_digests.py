"""The officers' daily digest: one email per officer, only their foundations, only when there is
something to say, at most once a day, in their language."""

import datetime
import io

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from grants.models import ActivityEntry, OrganizationMembership, ReviewAssignment, Role
from grants.services import applications as app_service
from grants.services import reviews
from grants.services.staff import add_staff
from grants.tasks import DIGEST_ACTION, send_officer_digests
from tests.factories import (
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.grants.test_applications import _draft, _sections, setup  # noqa: F401 - fixture


def _staff(foundation, role, *, language="en", **names):
    user = UserFactory(is_staff=True, preferred_language=language, **names)
    add_staff(user, foundation=foundation, role=role)
    return user


def _submit(setup, *, call=None, organization=None):  # noqa: F811
    organization = organization or OrganizationFactory(name="Trabajadores Unidos")
    if not organization.memberships.exists():
        OrganizationMembership.objects.create(
            organization=organization, user=setup["applicant"], role="owner"
        )
    application, sections = _draft({**setup, "call": call or setup["call"], "organization": organization})
    app_service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    application.refresh_from_db()
    return application


@pytest.fixture
def people(setup):  # noqa: F811
    foundation = setup["foundation"]
    other_foundation = FoundationFactory(name="Other Valley Foundation", slug="other-valley")
    setup.update(
        officer_es=_staff(foundation, Role.PROGRAM_OFFICER, language="es", first_name="Olga"),
        admin_en=_staff(foundation, Role.FOUNDATION_ADMIN, first_name="Adam"),
        reviewer=_staff(foundation, Role.REVIEWER, first_name="Rita", last_name="Reviewerson"),
        auditor=_staff(foundation, Role.AUDITOR),
        other_foundation=other_foundation,
        other_call=FundingCallFactory(fund=FundFactory(foundation=other_foundation)),
        other_officer=_staff(other_foundation, Role.PROGRAM_OFFICER, first_name="Otto"),
    )
    # Olga also reviews for the other foundation: that must not put its applications in her digest.
    add_staff(setup["officer_es"], foundation=other_foundation, role=Role.REVIEWER)
    return setup


def _run(capture) -> int:
    with capture(execute=True):
        return send_officer_digests.call()


def _mail_to(user):
    found = [m for m in mail.outbox if m.to == [user.email]]
    assert len(found) <= 1, f"{user.email} got {len(found)} digests"
    return found[0] if found else None


def test_each_officer_gets_one_digest_with_only_their_foundations_in_their_language(
    people, django_capture_on_commit_callbacks
):
    ours = _submit(people, organization=OrganizationFactory(name="Defensa Comunitaria"))
    theirs = _submit(
        people, call=people["other_call"], organization=OrganizationFactory(name="Secret Valley Group")
    )
    mail.outbox.clear()

    assert _run(django_capture_on_commit_callbacks) == 3
    assert len(mail.outbox) == 3
    assert _mail_to(people["reviewer"]) is None and _mail_to(people["auditor"]) is None

    olga = _mail_to(people["officer_es"])
    html = olga.alternatives[0][0]
    assert olga.body.startswith("Hola")
    assert '<html lang="es">' in html
    for text in (olga.body, html):
        assert ours.reference in text and "Defensa Comunitaria" in text
        assert theirs.reference not in text and "Secret Valley Group" not in text
        assert "Other Valley Foundation" not in text
        assert "Retaliation" not in text  # never an answer, let alone a sensitive one
    assert f"/admin/applications/inspect/{ours.pk}/" in olga.body

    adam = _mail_to(people["admin_en"])
    assert adam.body.startswith("Hello Adam")
    assert ours.reference in adam.body and theirs.reference not in adam.body
    assert "1 item needs your attention" in adam.subject

    otto = _mail_to(people["other_officer"])
    assert theirs.reference in otto.body and "Secret Valley Group" in otto.body
    assert ours.reference not in otto.body and "Defensa Comunitaria" not in otto.body


def test_overdue_reviews_and_rapid_response_past_target(people, django_capture_on_commit_callbacks, settings):
    call = people["call"]
    call.rapid_response, call.decision_target_hours = True, 48
    call.save()
    with time_machine.travel(timezone.now() - datetime.timedelta(days=9)):
        application = _submit(people)
    reviews.send_to_review(application, by=people["admin_en"])
    late = ReviewAssignment.objects.create(application=application, reviewer=people["reviewer"])
    recent_reviewer = _staff(people["foundation"], Role.REVIEWER, first_name="Recent", last_name="Rookie")
    recent = ReviewAssignment.objects.create(application=application, reviewer=recent_reviewer)
    done_reviewer = _staff(people["foundation"], Role.REVIEWER, first_name="Done", last_name="Dana")
    done = ReviewAssignment.objects.create(
        application=application, reviewer=done_reviewer, status=ReviewAssignment.Status.SUBMITTED
    )
    now = timezone.now()
    ReviewAssignment.objects.filter(pk__in=[late.pk, done.pk]).update(
        created_at=now - datetime.timedelta(days=8)
    )
    ReviewAssignment.objects.filter(pk=recent.pk).update(created_at=now - datetime.timedelta(days=2))
    mail.outbox.clear()

    settings.REVIEW_OVERDUE_DAYS = 10
    assert _run(django_capture_on_commit_callbacks) == 2  # only the rapid-response target is late
    body = _mail_to(people["admin_en"]).body
    assert "Rapid-response applications past their decision target" in body
    assert application.reference in body
    assert "Reviewerson" not in body
    assert "New applications" not in body  # submitted 9 days ago: not new

    ActivityEntry.objects.filter(action=DIGEST_ACTION).update(created_at=now - datetime.timedelta(days=1))
    mail.outbox.clear()
    del settings.REVIEW_OVERDUE_DAYS  # back to the default of 7 days
    assert _run(django_capture_on_commit_callbacks) == 2
    body = _mail_to(people["admin_en"]).body
    assert "Reviews waiting more than 7 days" in body
    assert "Rita Reviewerson" in body and "assigned 8 days ago" in body
    assert "Rookie" not in body and "Dana" not in body


def test_an_officer_with_a_declared_conflict_does_not_hear_about_that_application(
    people, django_capture_on_commit_callbacks
):
    application = _submit(people)
    assignment = ReviewAssignment.objects.create(application=application, reviewer=people["officer_es"])
    reviews.declare_conflict(assignment, by=people["officer_es"], has_conflict=True, note="Board member")
    mail.outbox.clear()
    _run(django_capture_on_commit_callbacks)
    assert _mail_to(people["officer_es"]) is None
    assert application.reference in _mail_to(people["admin_en"]).body


def test_nothing_to_say_sends_nothing(people, django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=3)):
        _submit(people)  # reported (or not) three days ago; nothing overdue today
    mail.outbox.clear()
    assert _run(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []
    assert not ActivityEntry.objects.filter(action=DIGEST_ACTION).exists()


def test_one_digest_a_day_and_the_next_one_lists_only_what_is_new(people, django_capture_on_commit_callbacks):
    first = _submit(people, organization=OrganizationFactory(name="First Group"))
    mail.outbox.clear()
    assert _run(django_capture_on_commit_callbacks) == 2
    assert _run(django_capture_on_commit_callbacks) == 0  # a retried cron job sends nothing twice
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        second = _submit(people, organization=OrganizationFactory(name="Second Group"))
        mail.outbox.clear()
        assert _run(django_capture_on_commit_callbacks) == 0  # still the same day
    assert ActivityEntry.objects.filter(action=DIGEST_ACTION).count() == 2  # one marker per officer
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, hours=1)):
        assert _run(django_capture_on_commit_callbacks) == 2
        body = _mail_to(people["admin_en"]).body
        assert second.reference in body and "Second Group" in body
        assert first.reference not in body and "First Group" not in body
        mail.outbox.clear()
        assert _run(django_capture_on_commit_callbacks) == 0


def test_resubmissions_are_listed_apart(people, django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=2)):
        application = _submit(people)
        reviews.start_screening(application, by=people["admin_en"])
        reviews.request_more_information(application, by=people["admin_en"], message="More", question_ids=[])
    reviews.resubmit_application(
        application, sections=_sections(people["page"]), by=people["applicant"],
        actor="applicant",
    )  # fmt: skip
    mail.outbox.clear()
    _run(django_capture_on_commit_callbacks)
    body = _mail_to(people["admin_en"]).body
    assert "Answers sent again after a request for more information" in body
    assert application.reference in body
    assert "New applications" not in body


def test_management_command_sends_the_digests(people, django_capture_on_commit_callbacks):
    _submit(people)
    mail.outbox.clear()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_digests", stdout=out)
    assert "Sent 2 officer digest(s)." in out.getvalue()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [people["officer_es"].email, people["admin_en"].email]
    )
    from grants.management.commands.send_digests import Command

    assert "once a day" in Command.help and "REVIEW_OVERDUE_DAYS" in Command.help


def test_the_task_can_be_queued(people, django_capture_on_commit_callbacks):
    _submit(people)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = send_officer_digests.enqueue()  # immediate backend in tests
    assert result.return_value == 2
    assert len(mail.outbox) == 2
