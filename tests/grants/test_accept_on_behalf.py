"""A group entered by phone, with no login, answers its award offer through staff; every message
says exactly who was told and how."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from grants.models import (
    ActivityEntry,
    AnswerChannel,
    AwardStatus,
    EntryCause,
    IntakeChannel,
    JournalEntry,
    Role,
)
from grants.services import awards, telling
from grants.services.errors import DomainError, IllegalTransition
from tests.factories import FoundationFactory, FundFactory, OrganizationFactory, approved_application
from tests.grants.money_fixtures import award_for, fund_with, staff, usd

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def paper(name="firmado.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def phone_award(world, amount=2000):
    """An award offered to a group entered by phone: no member, no login, no email."""
    fund_with(world, 10000)
    group = OrganizationFactory(name="Vecinos Unidos")
    application = approved_application(
        world["fund"], decided_by=world["officer"], amount=usd(amount), organization=group,
        intake_channel=IntakeChannel.PHONE,
    )  # fmt: skip
    today = timezone.localdate()
    return awards.make_award(
        application, by=world["officer"], amount=usd(amount), start_date=today,
        end_date=today + datetime.timedelta(days=365), schedule=[(today, usd(amount))],
    )  # fmt: skip


def yesterday():
    return timezone.localdate() - datetime.timedelta(days=1)


def answer(world, **overrides):
    values = {"by": world["officer"], "channel": AnswerChannel.PHONE, "given_on": timezone.localdate(),
              "given_by": "Rosa Hernández"}  # fmt: skip
    values.update(overrides)
    return values


@pytest.fixture
def other_officer(db):
    foundation = FoundationFactory(slug="elsewhere")
    FundFactory(foundation=foundation)
    return staff(foundation, Role.PROGRAM_OFFICER)


# --- Service ------------------------------------------------------------------------------------


def test_staff_record_a_phone_acceptance_as_an_online_one_would(world):
    award = phone_award(world)
    accepted = awards.accept_for_group(award, **answer(world))
    assert accepted.status == AwardStatus.ACCEPTED
    assert accepted.answered_via == AnswerChannel.PHONE and accepted.answered_by_name == "Rosa Hernández"
    assert accepted.answer_recorded_by == world["officer"] and accepted.accepted_at is not None
    entry = ActivityEntry.objects.get(subject_type="award", subject_id=award.pk, action="accept")
    assert entry.actor == world["officer"] and entry.to_state == AwardStatus.ACCEPTED
    assert "By phone" in entry.note and "Rosa Hernández" in entry.note and entry.visible_to_applicant

    again = awards.accept_for_group(award, **answer(world))  # a repeat (double click) is harmless
    assert again.status == AwardStatus.ACCEPTED
    assert (
        ActivityEntry.objects.filter(subject_type="award", subject_id=award.pk, action="accept").count() == 1
    )


def test_a_recorded_decline_gives_the_money_back(world):
    award = phone_award(world)
    declined = awards.decline_for_group(
        award, **answer(world, channel=AnswerChannel.IN_PERSON), reason="Ya no hace falta"
    )
    assert declined.status == AwardStatus.CANCELLED and declined.answered_via == AnswerChannel.IN_PERSON
    assert JournalEntry.objects.filter(award=award, cause=EntryCause.RELEASE).count() == 1
    entry = ActivityEntry.objects.get(subject_type="award", subject_id=award.pk, action="decline")
    assert entry.actor == world["officer"] and "In person" in entry.note and "Ya no hace falta" in entry.note
    awards.decline_for_group(award, **answer(world, channel=AnswerChannel.IN_PERSON))  # repeat: harmless
    assert JournalEntry.objects.filter(award=award, cause=EntryCause.RELEASE).count() == 1


def test_a_recorded_decline_with_an_over_long_reason_is_refused_not_cut(world):
    award = phone_award(world)
    with pytest.raises(DomainError, match="at most 2000 characters"):
        awards.decline_for_group(award, **answer(world, channel=AnswerChannel.PHONE), reason="x" * 2001)
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED and award.closing_note == ""


def test_a_signed_paper_is_kept_as_a_private_file(world, settings):
    award = phone_award(world)
    accepted = awards.accept_for_group(award, **answer(world, channel=AnswerChannel.PAPER, document=paper()))
    assert accepted.answer_document_name == "firmado.pdf"
    assert accepted.answer_document_type == "application/pdf"
    assert str(settings.PRIVATE_MEDIA_ROOT) in accepted.answer_document.path
    assert "firmado" not in accepted.answer_document.name  # random storage name


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"channel": AnswerChannel.PAPER}, "Upload the signed paper"),
        ({"channel": AnswerChannel.ONLINE}, "Say how the group gave its answer"),
        ({"given_by": " "}, "name of the person"),
        ({"given_on": timezone.localdate() + datetime.timedelta(days=1)}, "cannot be in the future"),
        ({"given_on": timezone.localdate() - datetime.timedelta(days=5)}, "before the award was offered"),
        (
            {"channel": AnswerChannel.PAPER, "document": SimpleUploadedFile("x.pdf", b"MZ not a pdf")},
            "not an accepted file type",
        ),
    ],
)
def test_bad_answer_records_are_refused_and_change_nothing(world, overrides, message):
    award = phone_award(world)
    with pytest.raises(DomainError, match=message):
        awards.accept_for_group(award, **answer(world, **overrides))
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED and not award.answered_via


def test_illegal_answers_are_refused(world, other_officer):
    fund_with(world, 20000)
    # A group with a login answers on the portal itself.
    online = award_for(world)
    with pytest.raises(DomainError, match="has a login"):
        awards.accept_for_group(online, **answer(world))
    award = phone_award(world)
    # Finance, auditors, another foundation's officers may not record for the group.
    for person in (world["finance"], world["auditor"], other_officer):
        with pytest.raises(IllegalTransition):
            awards.accept_for_group(award, **answer(world, by=person))
    # Once accepted it cannot be declined; once cancelled it cannot be accepted.
    awards.accept_for_group(award, **answer(world))
    with pytest.raises(IllegalTransition):
        awards.decline_for_group(award, **answer(world))
    cancelled = phone_award(world)
    awards.cancel_award(cancelled, by=world["officer"], reason="Fund closed")
    with pytest.raises(IllegalTransition):
        awards.accept_for_group(cancelled, **answer(world))


# --- Admin views ------------------------------------------------------------------------------------


def action(award, name):
    return reverse("awards:action", args=[award.pk, name])


def post_answer(client, award, name="accept_for_group", **overrides):
    data = {
        f"{name}-channel": "paper", f"{name}-given_on": timezone.localdate().isoformat(),
        f"{name}-given_by": "Rosa Hernández", f"{name}-document": paper(), f"{name}-confirm": "on",
    }  # fmt: skip
    data.update({f"{name}-{key}": value for key, value in overrides.items()})
    return client.post(action(award, name), data)


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_award_screen_says_nobody_was_emailed_and_offers_to_record_the_answer(world, client):
    award = phone_award(world)
    client.force_login(world["officer"])
    html = client.get(reverse("awards:inspect", args=[award.pk])).content.decode()
    assert "Nobody was emailed about this offer: this group has no login." in html
    assert action(award, "accept_for_group") in html and action(award, "decline_for_group") in html
    assert 'enctype="multipart/form-data"' in html

    online = award_for(world)
    html = client.get(reverse("awards:inspect", args=[online.pk])).content.decode()
    assert "grantee@example.org" in html and "accept_for_group" not in html


def test_officer_records_a_signed_paper_and_staff_download_it(world, client, other_officer):
    award = phone_award(world)
    client.force_login(world["officer"])
    response = post_answer(client, award)
    assert response.status_code == 302
    today = timezone.localdate()
    from django.utils.formats import date_format

    assert flashed(response) == [
        f"Recorded: Vecinos Unidos accepted the award (Signed paper, given by Rosa Hernández on "
        f"{date_format(today)}). Payments can now be released. Nobody was emailed: this group has no login."
    ]
    award.refresh_from_db()
    assert award.status == AwardStatus.ACCEPTED and award.answered_via == AnswerChannel.PAPER
    page = client.get(reverse("awards:inspect", args=[award.pk])).content.decode()
    document_url = reverse("awards:answer_document", args=[award.pk])
    assert document_url in page and "recorded by" in page

    for person in (world["officer"], world["auditor"]):
        client.force_login(person)
        download = client.get(document_url)
        assert download.status_code == 200 and download["Cache-Control"].startswith("private, no-store")
        assert b"".join(download.streaming_content) == PDF
    client.force_login(other_officer)
    assert client.get(document_url).status_code == 404


def test_another_foundation_and_forged_posts_change_nothing(world, client, other_officer):
    award = phone_award(world)
    client.force_login(other_officer)
    assert post_answer(client, award).status_code == 404
    client.force_login(world["finance"])
    refused = post_answer(client, award)
    assert refused.status_code in (302, 403) and refused.get("Location", "") != reverse(
        "awards:inspect", args=[award.pk]
    )
    client.force_login(world["officer"])
    forged = post_answer(client, award, channel="online", document="")
    assert forged.status_code == 400
    no_confirm = client.post(
        action(award, "decline_for_group"),
        {"decline_for_group-channel": "phone", "decline_for_group-given_on": timezone.localdate().isoformat(),
         "decline_for_group-given_by": "Rosa"},
    )  # fmt: skip
    assert no_confirm.status_code == 400
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED and not award.answered_via


def test_officer_records_a_decline_by_phone(world, client):
    award = phone_award(world)
    client.force_login(world["officer"])
    response = post_answer(
        client, award, "decline_for_group", channel="phone", document="", reason="Cerraron"
    )
    assert response.status_code == 302
    assert "Vecinos Unidos declined the award (By phone" in flashed(response)[0]
    award.refresh_from_db()
    assert award.status == AwardStatus.CANCELLED and award.closing_note == "Cerraron"


# --- Who was told, in every message --------------------------------------------------------------------


def test_making_an_award_says_who_was_emailed(world, client):
    from tests.grants.test_admin_awards import rows, terms

    fund_with(world, 20000)
    client.force_login(world["officer"])
    for organization, expected in (
        (world["organization"], "Award made; the group can now accept it on the portal. Email sent to grantee@example.org."),
        (OrganizationFactory(name="Sin Cuenta"), "Award made. Nobody was emailed: this group has no login. "
                                                 "Record their answer on the award when you have it."),
    ):  # fmt: skip
        application = approved_application(
            world["fund"], decided_by=world["officer"], amount=usd(3000), organization=organization
        )
        response = client.post(
            reverse("awards:make", args=[application.pk]),
            {**terms(), **rows(("2026-02-15", "3000")), "make": "1"},
        )
        assert response.status_code == 302, response.content.decode()[:500]
        assert flashed(response)[-1] == expected


def test_decision_messages_name_who_was_told(world):
    with_login = approved_application(
        world["fund"], decided_by=world["officer"], organization=world["organization"]
    )
    without = approved_application(world["fund"], decided_by=world["officer"], reference="PHONE-1")
    assert telling.decision_message(with_login, "approve") == "Approved. Email sent to grantee@example.org."
    assert telling.decision_message(without, "decline") == (
        "Declined. Nobody was emailed: this group has no login. Tell them by phone or in person."
    )
    assert telling.information_request_message(without).startswith("More information requested. Nobody was")
    assert telling.batch_decision_message([]) == ""
    assert telling.batch_decision_message([with_login, without]) == (
        "2 applications decided. 1 applicant was told by email. Nobody was emailed for PHONE-1: this group "
        "has no login. Tell them by phone or in person."
    )
    with translation.override("es"):
        spanish = telling.decision_message(without, "decline")
    assert (
        spanish
        == "No aprobada. No se envió ningún correo: este grupo no tiene cuenta. Avíseles por teléfono o en persona."
    )


def test_deleting_the_groups_data_deletes_its_signed_paper(world, django_capture_on_commit_callbacks):
    """A group's data deletion (privacy) takes the signed paper it gave staff with the rest: the
    file is gone from storage and the award no longer names it."""
    from django.db import transaction

    from grants.services import data_deletion

    award = phone_award(world)
    accepted = awards.accept_for_group(award, **answer(world, channel=AnswerChannel.PAPER, document=paper()))
    path = accepted.answer_document.path
    storage = accepted.answer_document.storage
    stored = accepted.answer_document.name
    assert storage.exists(stored)
    organization = accepted.application.organization
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        data_deletion.carry_out(organization, accepted.fund.foundation)
    accepted.refresh_from_db()
    assert not storage.exists(stored), path
    assert (accepted.answer_document.name or "") == ""
    assert accepted.answer_document_name == "" and accepted.answered_by_name == ""
