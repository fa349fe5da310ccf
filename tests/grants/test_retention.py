"""The retention rule erases exactly what it must: old declined/withdrawn applications' files,
sensitive answers and reviewers' notes, and quiet donors' contact details — nothing else."""

import datetime
import json

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from djmoney.money import Money

from grants.models import (
    AccessLogEntry,
    ActivityEntry,
    AppendOnlyError,
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    ApplicationVersion,
    Donation,
    DonationStatus,
    Donor,
    RecurringGift,
    RecurringGiftStatus,
    RetentionRun,
    Review,
    ReviewAssignment,
    Role,
)
from grants.models.applications import private_storage
from grants.services import retention
from tests.factories import (
    ApplicationFactory,
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    UserFactory,
)
from tests.grants.money_fixtures import staff

TODAY = datetime.date(2026, 6, 1)
SECRET = "Client detained at the Mesa Verde facility"
PLAIN = {"demo-b1": "Two lawyers on call for detentions."}


def days_ago(days: int) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(TODAY, datetime.time(12)) - datetime.timedelta(days=days)
    )


def attach(application, name="letter.pdf"):
    attachment = ApplicationAttachment(
        application=application,
        question_id="demo-b3",
        original_name=name,
        content_type="application/pdf",
        size=12,
    )
    attachment.file.save(name, ContentFile(b"%PDF-1.4 test"), save=False)
    attachment.save()
    return attachment


def application(call, status, *, decided=None, withdrawn=None, reviewer=None):
    app = ApplicationFactory(
        call=call,
        status=status,
        answers=dict(PLAIN),
        sensitive_answers={"demo-b2": SECRET},
        decision_reason="Outside the fund's priorities." if decided else "",
        decided_at=days_ago(decided) if decided is not None else None,
        withdrawn_at=days_ago(withdrawn) if withdrawn is not None else None,
    )
    ApplicationVersion.objects.create(
        application=app, number=1, answers=dict(PLAIN), sensitive_answers={"demo-b2": SECRET}
    )
    attach(app)
    if reviewer is not None:
        assignment = ReviewAssignment.objects.create(
            application=app,
            reviewer=reviewer,
            status="submitted",
            conflict_note="I know the director's cousin",
        )
        Review.objects.create(
            assignment=assignment,
            application=app,
            scores={"overall": {"score": 2, "comment": "Mentions the client Rosa"}},
            comment="The case of Rosa M. is strong",
            recommendation="maybe",
            weighted_score=2,
        )
    return app


@pytest.fixture
def world_apps(db):
    foundation = FoundationFactory(slug="bay", purge_declined_after_days=60)
    other = FoundationFactory(slug="other", purge_declined_after_days=400)
    call = FundingCallFactory(fund=FundFactory(foundation=foundation))
    other_call = FundingCallFactory(fund=FundFactory(foundation=other))
    reviewer = staff(foundation, Role.REVIEWER)
    return {
        "foundation": foundation,
        "other": other,
        "old_declined": application(call, ApplicationStatus.DECLINED, decided=100, reviewer=reviewer),
        "old_withdrawn": application(call, ApplicationStatus.WITHDRAWN, withdrawn=61),
        "recent_declined": application(call, ApplicationStatus.DECLINED, decided=30),
        "approved": application(call, ApplicationStatus.APPROVED, decided=500),
        "draft": application(call, ApplicationStatus.DRAFT),
        "other_withdrawn": application(other_call, ApplicationStatus.WITHDRAWN, withdrawn=100),
    }


def snapshot(app):
    app.refresh_from_db()
    attachments = list(app.attachments.all())
    return {
        "sensitive": app.sensitive_answers,
        "answers": app.answers,
        "reference": app.reference,
        "status": app.status,
        "decision_reason": app.decision_reason,
        "purged_at": app.purged_at,
        "files": [(a.file.name, private_storage().exists(a.file.name)) for a in attachments],
        "versions": [v.sensitive_answers for v in app.versions.all()],
    }


def test_purge_erases_old_declined_and_withdrawn_files_and_sensitive_answers_only(
    world_apps, django_capture_on_commit_callbacks
):
    old = world_apps["old_declined"]
    file_name = old.attachments.get().file.name
    assert private_storage().exists(file_name)
    untouched = {
        key: snapshot(world_apps[key]) for key in ("recent_declined", "approved", "draft", "other_withdrawn")
    }

    with django_capture_on_commit_callbacks(execute=True):
        result = retention.purge(world_apps["foundation"], today=TODAY, dry_run=False)

    assert result.as_dict() == {
        "applications": 2,
        "attachments": 2,
        "versions": 2,
        "review_notes": 2,
        "donors": 0,
        "access_log_entries": 0,
        "bond_references": 0,
    }
    after = snapshot(old)
    assert not private_storage().exists(file_name)  # the file is gone from storage
    assert after["files"] == [] and not ApplicationAttachment.objects.filter(application=old).exists()
    assert after["sensitive"] == {} and after["versions"] == [{}]
    # What stays: non-sensitive answers (on the application and its version), reference, decision.
    assert after["answers"] == PLAIN
    assert old.versions.get().answers == PLAIN
    assert after["reference"] == world_apps["old_declined"].reference
    assert after["status"] == ApplicationStatus.DECLINED
    assert after["decision_reason"] == "Outside the fund's priorities."
    assert after["purged_at"] is not None
    # Reviewers' free text is erased; their score and recommendation stay.
    review = Review.objects.get(application=old)
    assert review.comment == "" and review.scores == {"overall": {"score": 2, "comment": ""}}
    assert review.recommendation == "maybe" and review.weighted_score == 2
    assert ReviewAssignment.objects.get(application=old).conflict_note == ""
    withdrawn = snapshot(world_apps["old_withdrawn"])
    assert withdrawn["sensitive"] == {} and withdrawn["files"] == [] and withdrawn["purged_at"] is not None
    # Newer declined, approved, drafts, and another foundation with a longer period: untouched.
    for key, before in untouched.items():
        assert snapshot(world_apps[key]) == before, key
        assert all(exists for _name, exists in before["files"])


def test_dry_run_changes_nothing_and_reports_the_same_counts(world_apps):
    before = {key: snapshot(app) for key, app in world_apps.items() if key not in ("foundation", "other")}

    preview = retention.purge(world_apps["foundation"], today=TODAY, dry_run=True)

    assert {key: snapshot(world_apps[key]) for key in before} == before
    assert (
        Review.objects.get(application=world_apps["old_declined"]).comment == "The case of Rosa M. is strong"
    )
    real = retention.purge(world_apps["foundation"], today=TODAY, dry_run=False)
    assert preview.as_dict() == real.as_dict()
    assert real.applications == 2


def test_a_second_run_purges_nothing_more(world_apps):
    retention.purge(world_apps["foundation"], today=TODAY, dry_run=False)
    first_purged_at = snapshot(world_apps["old_declined"])["purged_at"]

    again = retention.purge(world_apps["foundation"], today=TODAY + datetime.timedelta(days=1), dry_run=False)

    assert again.total == 0
    assert snapshot(world_apps["old_declined"])["purged_at"] == first_purged_at


def test_the_period_is_per_foundation(world_apps):
    # 100 days is past the other foundation's 400-day period only once 400 days have gone by.
    assert retention.purge(world_apps["other"], today=TODAY, dry_run=False).applications == 0
    later = TODAY + datetime.timedelta(days=301)
    assert retention.purge(world_apps["other"], today=later, dry_run=False).applications == 1
    assert snapshot(world_apps["other_withdrawn"])["sensitive"] == {}


def test_runs_record_counts_only(world_apps):
    user = UserFactory()
    retention.purge(world_apps["foundation"], today=TODAY, dry_run=True, by=user)
    retention.purge(world_apps["foundation"], today=TODAY, dry_run=False)

    runs = list(RetentionRun.objects.filter(foundation=world_apps["foundation"]).order_by("pk"))
    assert [(run.dry_run, run.started_by) for run in runs] == [(True, user), (False, None)]
    for run in runs:
        assert all(isinstance(value, int) for value in run.counts.values())
        text = json.dumps(run.counts)
        assert SECRET not in text and "letter.pdf" not in text and "Rosa" not in text
    entry = ActivityEntry.objects.get(action="retention_purge")
    assert entry.foundation == world_apps["foundation"] and SECRET not in entry.note


# --- Donors ----------------------------------------------------------------------------------


def gift(donor, fund, *, received, receipt=None, status=DonationStatus.COMPLETED):
    return Donation.objects.create(
        foundation=donor.foundation,
        fund=fund,
        donor=donor,
        amount=Money(50, "USD"),
        gross=Money(50, "USD"),
        status=status,
        received_on=received,
        receipt_number=receipt,
        dedication="In memory of Abuela Rosa",
        message="For the families in Oakland",
    )


@pytest.fixture
def donors(db):
    foundation = FoundationFactory(slug="givers", anonymise_donors_after_years=7)
    fund = FundFactory(foundation=foundation)
    old = Donor.objects.create(
        foundation=foundation, email="old@example.org", name="Olga Old", consent_to_contact=True
    )
    gift(old, fund, received=datetime.date(2018, 3, 1), receipt=1)
    gift(old, fund, received=datetime.date(2019, 5, 31), receipt=2)
    unreceipted = Donor.objects.create(foundation=foundation, email="quiet@example.org", name="Quinn Quiet")
    gift(unreceipted, fund, received=datetime.date(2017, 1, 1), status=DonationStatus.EXPIRED)
    monthly = Donor.objects.create(foundation=foundation, email="monthly@example.org", name="Mona Monthly")
    gift(monthly, fund, received=datetime.date(2015, 1, 1), receipt=3)
    RecurringGift.objects.create(
        foundation=foundation,
        fund=fund,
        donor=monthly,
        amount=Money(10, "USD"),
        status=RecurringGiftStatus.ACTIVE,
    )
    recent = Donor.objects.create(foundation=foundation, email="recent@example.org", name="Rita Recent")
    gift(recent, fund, received=datetime.date(2018, 1, 1), receipt=4)
    gift(recent, fund, received=datetime.date(2020, 1, 1), receipt=5)  # last gift within 7 years
    return {
        "foundation": foundation,
        "old": old,
        "unreceipted": unreceipted,
        "monthly": monthly,
        "recent": recent,
    }


def test_donor_anonymisation_keeps_receipts_and_amounts_and_erases_contact(donors):
    result = retention.purge(donors["foundation"], today=TODAY, dry_run=False)

    assert result.donors == 2
    old = Donor.objects.get(pk=donors["old"].pk)
    assert old.email == f"donor-{old.pk}@anonymised.invalid"
    assert old.name == "Olga Old"  # printed on the receipts issued
    assert old.consent_to_contact is False
    gifts = list(old.donations.order_by("receipt_number"))
    assert [g.receipt_number for g in gifts] == [1, 2]
    assert [g.amount for g in gifts] == [Money(50, "USD")] * 2
    assert [g.received_on for g in gifts] == [datetime.date(2018, 3, 1), datetime.date(2019, 5, 31)]
    assert all(g.dedication == "" and g.message == "" for g in gifts)
    quiet = Donor.objects.get(pk=donors["unreceipted"].pk)
    assert quiet.name == "" and quiet.email.endswith("@anonymised.invalid")


def test_active_monthly_donors_and_recent_donors_are_kept(donors):
    retention.purge(donors["foundation"], today=TODAY, dry_run=False)

    for key, email in (("monthly", "monthly@example.org"), ("recent", "recent@example.org")):
        donor = Donor.objects.get(pk=donors[key].pk)
        assert donor.email == email
        assert donor.donations.exclude(dedication="").exists()
    assert retention.purge(donors["foundation"], today=TODAY, dry_run=False).donors == 0  # idempotent


def test_donor_dry_run_counts_without_changing(donors):
    assert retention.purge(donors["foundation"], today=TODAY, dry_run=True).donors == 2
    assert Donor.objects.get(pk=donors["old"].pk).email == "old@example.org"


# --- Command, daily job, settings -----------------------------------------------------------


def test_command_prints_counts_and_dry_run_changes_nothing(world_apps, capsys):
    with time_machine.travel(days_ago(0), tick=False):
        call_command("purge_retention", "--dry-run", "--foundation", "bay")
    out = capsys.readouterr().out
    assert "bay: 2 applications, 2 attachments" in out and "would be" in out
    assert snapshot(world_apps["old_declined"])["purged_at"] is None
    assert "other:" not in out


def test_run_daily_applies_the_rule(world_apps, capsys):
    # run_daily uses the real clock: decided 100 days before now is past the 60-day period.
    Application.objects.filter(pk=world_apps["old_declined"].pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=100)
    )
    call_command("run_daily")
    assert "erased under the retention rule" in capsys.readouterr().out
    assert snapshot(world_apps["old_declined"])["purged_at"] is not None
    assert snapshot(world_apps["draft"])["purged_at"] is None
    assert RetentionRun.objects.filter(
        foundation=world_apps["foundation"], dry_run=False, started_by=None
    ).exists()


def test_retention_periods_have_minimums(db):
    foundation = FoundationFactory.build(
        purge_declined_after_days=29, anonymise_donors_after_years=0, keep_access_log_years=0
    )
    with pytest.raises(ValidationError) as error:
        foundation.full_clean()
    assert set(error.value.message_dict) >= {
        "purge_declined_after_days",
        "anonymise_donors_after_years",
        "keep_access_log_years",
    }


# --- Access log -------------------------------------------------------------------------------


def log_entry(foundation, *, days, label):
    entry = AccessLogEntry.objects.create(foundation=foundation, kind="donor", object_id=1, label=label)
    AccessLogEntry.objects.filter(pk=entry.pk).update(at=days_ago(days))
    return entry


def test_access_log_entries_older_than_the_period_are_deleted_per_foundation(db):
    foundation = FoundationFactory(slug="bay", keep_access_log_years=2)
    other = FoundationFactory(slug="other", keep_access_log_years=5)
    log_entry(foundation, days=3 * 365, label="old")
    log_entry(foundation, days=2 * 365 + 2, label="just past")
    log_entry(foundation, days=2 * 365 - 2, label="just inside")
    log_entry(foundation, days=10, label="recent")
    log_entry(other, days=3 * 365, label="other foundation, within its 5 years")

    preview = retention.purge(foundation, today=TODAY, dry_run=True)
    assert preview.access_log_entries == 2
    assert AccessLogEntry.objects.count() == 5  # a dry run deletes nothing

    result = retention.purge(foundation, today=TODAY, dry_run=False)
    assert result.access_log_entries == 2
    assert set(AccessLogEntry.objects.values_list("label", flat=True)) == {
        "just inside",
        "recent",
        "other foundation, within its 5 years",
    }
    run = RetentionRun.objects.filter(foundation=foundation, dry_run=False).get()
    assert run.counts["access_log_entries"] == 2
    assert retention.purge(foundation, today=TODAY, dry_run=False).access_log_entries == 0
    assert retention.purge(other, today=TODAY, dry_run=False).access_log_entries == 0


def test_access_log_entries_still_cannot_be_deleted_one_by_one(db):
    entry = log_entry(FoundationFactory(), days=5000, label="kept by people")
    with pytest.raises(AppendOnlyError):
        entry.delete()


def _foundation_form(foundation, **changes):
    data = {
        "name": foundation.name,
        "slug": foundation.slug,
        "legal_name": foundation.legal_name or foundation.name,
        "tax_id": foundation.tax_id,
        "default_currency": foundation.default_currency,
        "time_zone": foundation.time_zone,
        "contact_email": foundation.contact_email or "grants@example.org",
        "contact_phone": foundation.contact_phone,
        "receipt_text": foundation.receipt_text,
        "purge_declined_after_days": foundation.purge_declined_after_days,
        "anonymise_donors_after_years": foundation.anonymise_donors_after_years,
        "keep_access_log_years": foundation.keep_access_log_years,
        "purge_bond_references_after_days": foundation.purge_bond_references_after_days,
        "check_bonds_after_days": foundation.check_bonds_after_days,
    }
    data.update(changes)
    return data


def test_a_foundation_admin_sets_the_access_log_period_and_zero_is_refused(client, db):
    foundation = FoundationFactory(slug="bay", keep_access_log_years=3)
    admin = staff(foundation, Role.FOUNDATION_ADMIN)
    client.force_login(admin)
    url = f"/admin/foundations/edit/{foundation.pk}/"

    refused = client.post(url, _foundation_form(foundation, keep_access_log_years="0"))
    assert refused.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in refused.content.decode()
    foundation.refresh_from_db()
    assert foundation.keep_access_log_years == 3

    saved = client.post(url, _foundation_form(foundation, keep_access_log_years="5"))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    foundation.refresh_from_db()
    assert foundation.keep_access_log_years == 5


def test_a_foundation_admin_sets_the_bond_periods_and_too_short_ones_are_refused(client, db):
    foundation = FoundationFactory(slug="bay")
    client.force_login(staff(foundation, Role.FOUNDATION_ADMIN))
    url = f"/admin/foundations/edit/{foundation.pk}/"

    refused = client.post(url, _foundation_form(foundation, purge_bond_references_after_days="0",
                                                check_bonds_after_days="6"))  # fmt: skip
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "Ensure this value is greater than or equal to 1." in html
    assert "Ensure this value is greater than or equal to 7." in html
    foundation.refresh_from_db()
    assert (foundation.purge_bond_references_after_days, foundation.check_bonds_after_days) == (90, 180)

    saved = client.post(url, _foundation_form(foundation, purge_bond_references_after_days="30",
                                              check_bonds_after_days="60"))  # fmt: skip
    assert saved.status_code == 302, saved.content.decode()[:2000]
    foundation.refresh_from_db()
    assert (foundation.purge_bond_references_after_days, foundation.check_bonds_after_days) == (30, 60)
