"""Opening applications, their files, donors and donations leaves an access-log entry; the
Privacy area shows a foundation's log, runs and requests to its admins (auditors read it)."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from djmoney.money import Money

from grants.models import (
    AccessLogEntry,
    ApplicationAttachment,
    ApplicationStatus,
    Donation,
    DonationStatus,
    Donor,
    RetentionRun,
    ReviewAssignment,
    Role,
)
from grants.services import reports
from grants.services.staff import add_staff
from tests.factories import (
    ApplicationFactory,
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    UserFactory,
)
from tests.grants import test_admin_applications
from tests.grants.report_helpers import reporting_award, spend

# The officers' application fixture: a submitted application with a sensitive answer.
setup = test_admin_applications.setup


def not_found(response) -> bool:
    """A 404 (outside the language prefix Django's LocaleMiddleware turns it into a redirect to /en/…)."""
    return response.status_code == 404 or (
        response.status_code == 302 and response["Location"].startswith("/en/admin/")
    )


def refused(response) -> bool:
    """Refused: 403, a 404, or Wagtail's answer to a permission error (back to the dashboard)."""
    return (
        response.status_code == 403
        or not_found(response)
        or (response.status_code == 302 and response["Location"] == "/admin/")
    )


def _staff(foundation, role, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    add_staff(user, foundation=foundation, role=role)
    return user


def _attach(application):
    attachment = ApplicationAttachment(
        application=application, question_id="demo-b3", original_name="Rosa M. letter.pdf",
        content_type="application/pdf", size=9,
    )  # fmt: skip
    attachment.file.save("letter.pdf", ContentFile(b"%PDF-1.4 x"), save=False)
    attachment.save()
    return attachment


def entries(**filters):
    return list(AccessLogEntry.objects.filter(**filters).values_list("kind", "object_id", "label"))


def test_officer_opening_an_application_and_comparing_versions_is_logged(setup, client):
    officer = _staff(setup["foundation"], Role.PROGRAM_OFFICER)
    application = setup["application"]
    client.force_login(officer)

    assert client.get(f"/admin/applications/inspect/{application.pk}/").status_code == 200
    assert client.get(f"/admin/applications/inspect/{application.pk}/compare/").status_code == 200

    assert entries(user=officer) == [("application", application.pk, application.reference)] * 2
    entry = AccessLogEntry.objects.filter(user=officer).first()
    assert entry.foundation == setup["foundation"]


def test_staff_downloading_an_attachment_is_logged_but_the_applicant_is_not(setup, client):
    attachment = _attach(setup["application"])
    url = f"/en/applications/{setup['application'].pk}/files/{attachment.pk}/"
    client.force_login(setup["applicant"])
    assert client.get(url).status_code == 200
    assert not AccessLogEntry.objects.exists()

    officer = _staff(setup["foundation"], Role.PROGRAM_OFFICER)
    client.force_login(officer)
    assert client.get(url).status_code == 200

    [(kind, object_id, label)] = entries(user=officer)
    assert (kind, object_id) == ("attachment", attachment.pk)
    assert setup["application"].reference in label and "Rosa" not in label  # no file name


def test_reviewer_reading_and_downloading_is_logged(setup, client):
    reviewer = _staff(setup["foundation"], Role.REVIEWER)
    application = setup["application"]
    ReviewAssignment.objects.create(application=application, reviewer=reviewer, status="reviewing")
    attachment = _attach(application)
    client.force_login(reviewer)

    assert client.get(f"/admin/reviews/{application.pk}/").status_code == 200
    assert client.get(f"/admin/reviews/{application.pk}/files/{attachment.pk}/").status_code == 200

    assert [kind for kind, _id, _label in entries(user=reviewer)] == ["attachment", "application"]


def test_a_reviewer_before_declaring_no_conflict_leaves_no_entry(setup, client):
    reviewer = _staff(setup["foundation"], Role.REVIEWER)
    ReviewAssignment.objects.create(application=setup["application"], reviewer=reviewer)
    client.force_login(reviewer)
    assert client.get(f"/admin/reviews/{setup['application'].pk}/").status_code == 200
    assert not AccessLogEntry.objects.exists()  # nothing of the application was shown


@pytest.fixture
def donation(db):
    foundation = FoundationFactory(slug="givers")
    fund = FundFactory(foundation=foundation)
    donor = Donor.objects.create(foundation=foundation, email="dora@example.org", name="Dora Donor")
    gift = Donation.objects.create(
        foundation=foundation, fund=fund, donor=donor, amount=Money(25, "USD"), gross=Money(25, "USD"),
        status=DonationStatus.COMPLETED, received_on=datetime.date(2026, 3, 1),
    )  # fmt: skip
    return gift


def test_donor_and_donation_pages_are_logged_without_personal_data(donation, client):
    finance = _staff(donation.foundation, Role.FINANCE_OFFICER)
    client.force_login(finance)

    assert client.get(f"/admin/donations/donors/{donation.donor.pk}/").status_code == 200
    assert client.get(f"/admin/donations/{donation.pk}/").status_code == 200

    assert sorted(entries(user=finance)) == [
        ("donation", donation.pk, f"#{donation.pk}"),
        ("donor", donation.donor.pk, f"#{donation.donor.pk}"),
    ]


def test_refused_openings_are_not_logged(donation, client):
    stranger = _staff(FoundationFactory(slug="elsewhere"), Role.FINANCE_OFFICER)
    client.force_login(stranger)
    assert not_found(client.get(f"/admin/donations/{donation.pk}/"))
    assert not AccessLogEntry.objects.exists()


# --- The Privacy area ----------------------------------------------------------------------------


@pytest.fixture
def logged(db):
    """Two foundations, each with an admin and an entry in its log."""
    foundation = FoundationFactory(slug="bay")
    other = FoundationFactory(slug="other")
    admin = _staff(foundation, Role.FOUNDATION_ADMIN, email="admin@example.org", first_name="Alma")
    other_admin = _staff(other, Role.FOUNDATION_ADMIN)
    officer = _staff(foundation, Role.PROGRAM_OFFICER, email="officer@example.org", first_name="Omar")
    AccessLogEntry.objects.create(
        foundation=foundation, user=officer, kind="application", object_id=1, label="BAY-REF-1"
    )
    AccessLogEntry.objects.create(foundation=foundation, user=admin, kind="donor", object_id=2, label="#2")
    AccessLogEntry.objects.create(
        foundation=other, user=other_admin, kind="application", object_id=3, label="OTHER-REF-3"
    )
    return {"foundation": foundation, "other": other, "admin": admin, "officer": officer}


def test_the_foundation_admin_sees_their_log_only(logged, client):
    client.force_login(logged["admin"])
    index = client.get("/admin/privacy/")
    assert index.status_code == 200
    assert "Preview (dry run)" in index.content.decode()
    log = client.get("/admin/privacy/access/").content.decode()
    assert "BAY-REF-1" in log and "#2" in log
    assert "OTHER-REF-3" not in log
    # Asking for the other foundation's log is a 404.
    assert not_found(client.get(f"/admin/privacy/access/?foundation={logged['other'].pk}"))


def test_the_log_filters_by_person_record_and_period(logged, client):
    client.force_login(logged["admin"])
    by_person = client.get(f"/admin/privacy/access/?user={logged['officer'].pk}").content.decode()
    assert "BAY-REF-1" in by_person and '<span class="fp-code">#2</span>' not in by_person
    by_kind = client.get("/admin/privacy/access/?kind=donor").content.decode()
    assert "BAY-REF-1" not in by_kind and "#2" in by_kind
    AccessLogEntry.objects.filter(label="BAY-REF-1").update(at=timezone.now() - datetime.timedelta(days=40))
    recent = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    by_date = client.get(f"/admin/privacy/access/?date_from={recent}").content.decode()
    assert "BAY-REF-1" not in by_date and "#2" in by_date


def test_the_log_paginates(logged, client):
    for number in range(60):
        AccessLogEntry.objects.create(
            foundation=logged["foundation"], user=logged["officer"], kind="application", object_id=number,
            label=f"PAGE-{number:03d}",
        )  # fmt: skip
    client.force_login(logged["admin"])
    first = client.get("/admin/privacy/access/?kind=application").content.decode()
    assert "PAGE-059" in first and "PAGE-000" not in first and "Page 1 of 2" in first
    second = client.get("/admin/privacy/access/?kind=application&p=2").content.decode()
    assert "PAGE-000" in second


def test_officers_are_refused_and_auditors_read_only(logged, client):
    client.force_login(logged["officer"])
    assert not_found(client.get("/admin/privacy/"))
    assert not_found(client.get("/admin/privacy/access/"))
    assert not_found(client.post("/admin/privacy/preview/", {"foundation": logged["foundation"].pk}))
    auditor = _staff(logged["foundation"], Role.AUDITOR)
    client.force_login(auditor)
    index = client.get("/admin/privacy/")
    assert index.status_code == 200 and "Preview (dry run)" not in index.content.decode()
    assert "BAY-REF-1" in client.get("/admin/privacy/access/").content.decode()
    assert refused(client.post("/admin/privacy/preview/", {"foundation": logged["foundation"].pk}))
    assert not RetentionRun.objects.exists()


def test_preview_shows_counts_and_changes_nothing(logged, client):
    foundation = logged["foundation"]
    call = FundingCallFactory(fund=FundFactory(foundation=foundation))
    old = ApplicationFactory(
        call=call, status=ApplicationStatus.DECLINED, sensitive_answers={"q": "secret"},
        decided_at=timezone.now() - datetime.timedelta(days=400),
    )  # fmt: skip
    client.force_login(logged["admin"])

    response = client.post("/admin/privacy/preview/", {"foundation": foundation.pk})

    assert response.status_code == 200
    assert "If the rule ran now, it would erase:" in response.content.decode()
    old.refresh_from_db()
    assert old.sensitive_answers == {"q": "secret"} and old.purged_at is None
    run = RetentionRun.objects.get()
    assert run.dry_run and run.started_by == logged["admin"] and run.counts["applications"] == 1
    assert not_found(client.post("/admin/privacy/preview/", {"foundation": logged["other"].pk}))


def test_staff_read_that_a_purged_application_lost_its_files_under_the_rule(setup, client):
    application = setup["application"]
    application.status = ApplicationStatus.DECLINED
    application.purged_at = timezone.now()
    application.sensitive_answers = {}
    application.save()
    client.force_login(_staff(setup["foundation"], Role.FOUNDATION_ADMIN))
    page = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "removed on" in page and "under the retention rule" in page
    assert "Removed under the retention rule" in page


def test_staff_opening_a_spending_report_and_its_receipt_is_logged(world, client):
    award = reporting_award(world)
    due = award.report_due_dates.order_by("due_date").first()
    report = reports.report_for(due, by=world["grantee"])
    expenditure = spend(report, world, 200)
    receipt_url = f"/en/reports/{due.pk}/receipts/{expenditure.pk}/"
    client.force_login(world["grantee"])
    assert client.get(receipt_url).status_code == 200
    assert not AccessLogEntry.objects.exists()  # the grantee's own receipt

    client.force_login(world["finance"])
    assert client.get(f"/admin/reports/{due.pk}/").status_code == 200
    assert client.get(receipt_url).status_code == 200

    assert sorted(kind for kind, _id, _label in entries(user=world["finance"])) == [
        "receipt",
        "spending_report",
    ]
    assert all(award.reference in label for _kind, _id, label in entries(user=world["finance"]))


def test_privacy_and_security_actions_are_named_in_the_activity_log():
    from grants.admin.activity import action_label
    from grants.models import ActivityEntry

    for action, words in [
        ("deletion_requested", "Asked to delete its data"),
        ("retention_purge", "Retention rule applied"),
        ("stripe_keys_changed", "Stripe keys replaced"),
        ("data_downloaded", "Data downloaded by the organization"),
    ]:
        entry = ActivityEntry(subject_type="organization", subject_id=1, action=action)
        assert action_label(entry) == words
