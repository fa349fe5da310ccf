"""Spending reports: budget variance, expenditures and receipts, states, versions, money returned."""

import pytest
from django.core import mail
from djmoney.money import Money

from grants.models import (
    ActivityEntry,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    OrganizationMembership,
    ReportKind,
    ReportStatus,
    ReturnStatus,
    Role,
)
from grants.services import installments, ledger, report_reminders, reports
from grants.services.errors import IllegalTransition
from tests.factories import OrganizationFactory, UserFactory
from tests.grants.money_fixtures import staff, usd
from tests.grants.report_helpers import (
    BUDGET,
    METRICS,
    PNG,
    D,
    pdf,
    reporting_award,
    set_budget,
    spend,
    upload,
)

CATEGORIES_WITH_EMPTY = ("Legal fees", "Filing fees", "Interpreters", "Travel")


def _report(world, award, kind=ReportKind.INTERIM):
    return reports.report_for(award.report_due_dates.get(kind=kind), by=world["grantee"])


def _complete(world, report, explanations=None, **metrics):
    return reports.save_draft(
        report,
        by=world["grantee"],
        period_start=D(2026, 2, 1),
        period_end=D(2026, 7, 31),
        narrative="We represented people at their hearings.",
        metrics={"people_represented": "12", **metrics},
        variance_explanations=explanations or {},
    )


def _submit(world, report):
    return reports.submit_report(report, by=world["grantee"], metric_definitions=METRICS)


def _filed(world, award, amount=500, kind=ReportKind.INTERIM, category="0", **metrics):
    """A report of ``award`` with one expenditure, complete and submitted."""
    report = _report(world, award, kind)
    spend(report, world, amount, category)
    report = _complete(world, report, explanations={"0": "x", "1": "x", "2": "x"}, **metrics)
    return _submit(world, report)


def _rows(report):
    return {row.position: row for row in reports.budget_rows(report)}


def _outsider():
    user = UserFactory(email="outsider@example.org")
    OrganizationMembership.objects.create(organization=OrganizationFactory(), user=user, role="owner")
    return user


# --- The variance rule --------------------------------------------------------------------------


def test_interim_report_explains_overspending_only(world):
    award = reporting_award(world)  # Legal 3000, Filing 1000, Interpreters 1000; 15 %
    report = _report(world, award)
    spend(report, world, "1150.01", "1")  # just over 15 % over
    spend(report, world, "1150.00", "2")  # exactly 15 % over: fine
    spend(report, world, "100", "0")  # far under: expected mid-grant
    rows = _rows(report)
    assert rows["1"].needs_explanation
    assert rows["1"].variance == usd("150.01")
    assert not rows["2"].needs_explanation
    assert rows["2"].variance_percent == 15
    assert not rows["0"].needs_explanation
    assert rows["0"].variance == usd(-2900)


def test_final_report_explains_over_and_under_spending(world):
    award = reporting_award(world)
    report = _report(world, award, ReportKind.FINAL)
    spend(report, world, "100", "0")  # 97 % under
    spend(report, world, "850", "1")  # exactly 15 % under: fine
    spend(report, world, "849.99", "2")  # just past 15 % under
    rows = _rows(report)
    assert rows["0"].needs_explanation
    assert not rows["1"].needs_explanation
    assert rows["2"].needs_explanation


def test_the_call_sets_the_threshold(world):
    award = reporting_award(world, report_variance_percent=5)
    report = _report(world, award)
    spend(report, world, "1060", "1")
    assert _rows(report)["1"].needs_explanation


def test_category_approved_at_zero_needs_an_explanation_for_any_spending(world):
    award = reporting_award(world)
    set_budget(award.application, BUDGET, categories=CATEGORIES_WITH_EMPTY)
    report = _report(world, award)
    assert [line.approved for line in reports.approved_budget(award)] == [
        usd(3000),
        usd(1000),
        usd(1000),
        usd(0),
    ]
    spend(report, world, "0.01", "3")
    row = _rows(report)["3"]
    assert row.label == "Travel"
    assert row.needs_explanation
    assert row.variance_percent is None


def test_spent_adds_earlier_accepted_reports_only(world):
    award = reporting_award(world)
    interim = _filed(world, award, 2000, category="0")
    final = _report(world, award, ReportKind.FINAL)
    spend(final, world, 1000, "0")
    assert _rows(final)["0"].spent == usd(1000), "a report not yet accepted does not count"
    reports.accept_report(interim, by=world["officer"])
    assert _rows(final)["0"].spent == usd(3000)
    assert _rows(interim)["0"].spent == usd(2000), "a later report does not count for an earlier one"


# --- Expenditures and receipts ------------------------------------------------------------------


def test_receipts_are_checked_by_their_bytes(world):
    award = reporting_award(world)
    report = _report(world, award)
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    for name, data in (("scan.png", PNG), ("photo.heic", heic)):
        expenditure = reports.add_expenditure(
            report, by=world["grantee"], date=D(2026, 3, 1), category="0", description="Filing",
            amount=usd(10), receipt=upload(name, data), today=D(2026, 9, 1),
        )  # fmt: skip
        assert expenditure.receipt_name == name
        assert name not in expenditure.receipt.name, "the stored name is random"
    for receipt in (upload("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 200), pdf(size=10 * 1024 * 1024 + 1)):
        with pytest.raises(reports.ReportError) as refused:
            reports.add_expenditure(
                report, by=world["grantee"], date=D(2026, 3, 1), category="0", description="Filing",
                amount=usd(10), receipt=receipt, today=D(2026, 9, 1),
            )  # fmt: skip
        assert refused.value.field == "receipt"
        assert receipt.name in refused.value.message
    assert report.expenditures.count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "3"}, "category"),
        ({"category": ""}, "category"),
        ({"amount": usd(0)}, "amount"),
        ({"amount": usd(-5)}, "amount"),
        ({"amount": Money("10.001", "USD")}, "amount"),
        ({"amount": Money(10, "EUR")}, "amount"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 301}, "description"),
        ({"date": D(2026, 9, 2)}, "date"),
        ({"date": D(2026, 1, 1)}, "date"),
    ],
)
def test_bad_expenditures_are_refused_with_the_reason(world, changes, field):
    award = reporting_award(world)
    report = _report(world, award)
    values = {"date": D(2026, 9, 1), "category": "0", "description": "Filing", "amount": usd(10), **changes}
    with pytest.raises(reports.ReportError) as refused:
        reports.add_expenditure(report, by=world["grantee"], today=D(2026, 9, 1), **values)
    assert refused.value.field == field
    assert refused.value.message
    assert not report.expenditures.exists()


def test_earliest_expenditure_is_30_days_before_the_award_starts(world):
    award = reporting_award(world)  # starts 2026-02-01
    report = _report(world, award)
    spend(report, world, 10, date=D(2026, 1, 2))
    assert report.expenditures.count() == 1


def test_expenditures_can_change_only_while_the_report_is_editable(world):
    award = reporting_award(world)
    report = _filed(world, award)
    with pytest.raises(IllegalTransition):
        spend(report, world, 10)
    with pytest.raises(IllegalTransition):
        reports.remove_expenditure(report.expenditures.get(), by=world["grantee"])


# --- States, versions, who may act --------------------------------------------------------------


def test_submit_request_changes_resubmit_accept_keeps_every_version(
    world, django_capture_on_commit_callbacks
):
    award = reporting_award(world)
    report = _report(world, award)
    spend(report, world, 500)
    report = _complete(world, report)
    with django_capture_on_commit_callbacks(execute=True):
        report = _submit(world, report)
    assert report.status == ReportStatus.SUBMITTED
    officers_email = [m for m in mail.outbox if m.to == ["officer@example.org"]]
    assert len(officers_email) == 1
    assert _submit(world, report).version == 1, "a double submit is harmless"
    with pytest.raises(IllegalTransition):
        reports.save_draft(report, by=world["grantee"], metrics={}, variance_explanations={})
    with pytest.raises(reports.ReportError):
        reports.request_changes(report, by=world["officer"], message="  ")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        report = reports.request_changes(report, by=world["officer"], message="Add the filing fee receipt.")
    assert report.status == ReportStatus.CHANGES_REQUESTED
    (email,) = mail.outbox
    assert email.to == ["grantee@example.org"]
    assert "Add the filing fee receipt." in email.body
    assert f"/es/reports/{report.due_id}/" in email.body or f"/es/awards/{award.pk}/" in email.body
    spend(report, world, 120, "1")
    report = _submit(world, report)
    assert report.status == ReportStatus.RESUBMITTED
    versions = list(report.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].snapshot["total"] == "500.00"
    assert len(versions[0].snapshot["expenditures"]) == 1
    assert versions[1].snapshot["total"] == "620.00"
    report = reports.accept_report(report, by=world["officer"])
    assert report.status == ReportStatus.ACCEPTED
    with pytest.raises(IllegalTransition):
        _submit(world, report)
    with pytest.raises(IllegalTransition):
        reports.accept_report(report, by=world["officer"])
    actions = ActivityEntry.objects.filter(subject_type="spending_report", subject_id=report.pk)
    assert list(actions.order_by("pk").values_list("action", flat=True)) == [
        "submit",
        "request_changes",
        "resubmit",
        "accept",
    ]


def test_the_table_says_who_does_what(world):
    award = reporting_award(world)
    report = _report(world, award)
    spend(report, world, 500)
    report = _complete(world, report)
    with pytest.raises(IllegalTransition):
        reports.submit_report(report, by=world["officer"], metric_definitions=METRICS)
    with pytest.raises(IllegalTransition, match="cannot be done"):
        reports.accept_report(report, by=world["officer"])
    report = _submit(world, report)
    for person in (world["grantee"], world["finance"], world["auditor"]):
        with pytest.raises(IllegalTransition):
            reports.accept_report(report, by=person)


def test_people_of_another_foundation_or_organization_are_refused(world, other_foundation):
    award = reporting_award(world)
    due = award.report_due_dates.get(kind=ReportKind.INTERIM)
    outsider = _outsider()
    with pytest.raises(IllegalTransition):
        reports.report_for(due, by=outsider)
    report = _report(world, award)
    with pytest.raises(IllegalTransition):
        reports.add_expenditure(report, by=outsider, date=D(2026, 3, 1), category="0", description="x",
                                amount=usd(1), today=D(2026, 9, 1))  # fmt: skip
    with pytest.raises(IllegalTransition):
        reports.announce_return(award, by=outsider, amount=usd(1), method="check")
    spend(report, world, 500)
    report = _complete(world, report)
    with pytest.raises(IllegalTransition):
        reports.submit_report(report, by=outsider, metric_definitions=METRICS)
    report = _submit(world, report)
    foreign_officer = staff(other_foundation, Role.PROGRAM_OFFICER)
    with pytest.raises(IllegalTransition):
        reports.accept_report(report, by=foreign_officer)
    with pytest.raises(IllegalTransition):
        reports.request_changes(report, by=foreign_officer, message="No")
    assert reports.SpendingReport.objects.get(pk=report.pk).status == ReportStatus.SUBMITTED


def test_accepting_lifts_the_payment_held_for_the_report(world, django_capture_on_commit_callbacks):
    award = reporting_award(world, schedule=[(D(2026, 2, 1), usd(2500)), (D(2026, 9, 1), usd(2500))])
    report_reminders.send_report_reminders(today=D(2026, 8, 2))
    second = award.installments.get(number=2)
    assert second.status == InstallmentStatus.ON_HOLD
    report = _filed(world, award)
    with django_capture_on_commit_callbacks(execute=True):
        reports.accept_report(report, by=world["officer"], today=D(2026, 8, 10))
    second.refresh_from_db()
    assert second.status == InstallmentStatus.SCHEDULED
    assert second.held_for_report is None
    assert second.hold_reason == ""
    assert any(m.to == ["grantee@example.org"] and 'lang="es"' in m.alternatives[0][0] for m in mail.outbox)


def test_accepting_leaves_other_holds_alone(world):
    award = reporting_award(world, schedule=[(D(2026, 2, 1), usd(2500)), (D(2026, 9, 1), usd(2500))])
    second = award.installments.get(number=2)
    installments.hold_installment(second, by=world["officer"], reason="Waiting for the board")
    report = _filed(world, award)
    reports.accept_report(report, by=world["officer"])
    assert award.installments.get(number=2).status == InstallmentStatus.ON_HOLD


# --- Validation and metrics ---------------------------------------------------------------------


def test_validation_lists_what_is_missing(world):
    award = reporting_award(world)
    report = _report(world, award)
    errors = reports.validate_report(report, metric_definitions=METRICS)
    assert set(errors) == {"period_start", "period_end", "expenditures", "metric_people_represented"}
    spend(report, world, 1500, "1", receipt=False)
    report = reports.save_draft(report, by=world["grantee"], period_start=D(2026, 7, 1), period_end=D(2026, 6, 1),
                       metrics={"people_represented": "-1"}, variance_explanations={})  # fmt: skip
    errors = reports.validate_report(report, metric_definitions=METRICS)
    assert set(errors) == {"period_end", "expenditures", "explanation_1", "metric_people_represented"}
    assert "Filing fees" in errors["explanation_1"][0]
    with pytest.raises(reports.ReportInvalid) as invalid:
        _submit(world, report)
    assert invalid.value.errors == errors
    assert reports.SpendingReport.objects.get(pk=report.pk).status == ReportStatus.DRAFT


def test_a_missing_explanation_names_the_category_in_the_readers_language(world):
    award = reporting_award(world)
    report = _report(world, award)
    spend(report, world, 1500, "1")
    labels = {"0": "Honorarios legales", "1": "Tasas de presentación", "2": "Intérpretes"}

    errors = reports.validate_report(report, metric_definitions=METRICS, category_labels=labels)

    assert (
        "Tasas de presentación" in errors["explanation_1"][0]
        and "Filing fees" not in errors["explanation_1"][0]
    )
    with pytest.raises(reports.ReportInvalid) as invalid:
        reports.submit_report(report, by=world["grantee"], metric_definitions=METRICS, category_labels=labels)
    assert "Tasas de presentación" in invalid.value.errors["explanation_1"][0]


@pytest.mark.parametrize(("value", "ok"), [("12", True), ("0", True), ("2.5", True), ("abc", False),
                                           ("-1", False), ("", False), ("NaN", False)])  # fmt: skip
def test_number_metrics_must_be_numbers_of_zero_or_more(world, value, ok):
    award = reporting_award(world)
    report = _report(world, award)
    spend(report, world, 500)
    report = _complete(world, report, people_represented=value)
    errors = reports.validate_report(report, metric_definitions=METRICS)
    assert ("metric_people_represented" not in errors) is ok
    assert "metric_highlights" not in errors, "text metrics are optional"


def test_fund_totals_add_up_accepted_reports(world):
    first = reporting_award(world)
    second = reporting_award(world)
    reports.accept_report(
        _filed(world, first, people_represented="12", highlights="Won asylum"), by=world["officer"]
    )
    reports.accept_report(_filed(world, second, people_represented="3"), by=world["officer"])
    _filed(world, first, kind=ReportKind.FINAL, people_represented="100")  # submitted, not accepted
    totals = {t["key"]: t for t in reports.fund_metric_totals(world["fund"], metric_definitions=METRICS)}
    assert totals["people_represented"]["total"] == 15
    assert totals["highlights"]["total"] == 1


# --- Money: what is left, what comes back -------------------------------------------------------


def test_returned_money_posts_to_the_ledger_once(world):
    award = reporting_award(world)  # 5000 paid
    reports.accept_report(_filed(world, award, 500), by=world["officer"])
    money = reports.award_money(award)
    assert (money.awarded, money.paid, money.reported_spent, money.returned, money.remaining) == (
        usd(5000), usd(5000), usd(500), usd(0), usd(4500)
    )  # fmt: skip
    grant_return = reports.announce_return(award, by=world["grantee"], amount=usd(1000), method="check")
    with pytest.raises(reports.ReportError):
        reports.announce_return(award, by=world["grantee"], amount=usd("3500.01"), method="check")
    with pytest.raises(IllegalTransition):
        reports.confirm_return(grant_return, by=world["officer"], received_on=D(2026, 9, 1))
    before = ledger.balances(world["fund"])
    for _ in range(2):
        confirmed = reports.confirm_return(grant_return, by=world["finance"], received_on=D(2026, 9, 1))
    assert confirmed.status == ReturnStatus.RECEIVED
    assert JournalEntry.objects.filter(cause=EntryCause.RETURN).count() == 1
    after = ledger.balances(world["fund"])
    assert after.returned == usd(1000)
    assert after.cash - before.cash == usd(1000)
    assert reports.award_money(award).remaining == usd(3500)
    reports.announce_return(award, by=world["grantee"], amount=usd(3500), method="bank transfer")
    with pytest.raises(reports.ReportError):
        reports.announce_return(award, by=world["grantee"], amount=usd("0.01"), method="check")


@pytest.mark.parametrize("amount", [usd(0), Money(10, "EUR"), Money("0.001", "USD")])
def test_bad_return_amounts_are_refused(world, amount):
    award = reporting_award(world)
    with pytest.raises(reports.ReportError):
        reports.announce_return(award, by=world["grantee"], amount=amount, method="check")


# --- The grantee's dashboard --------------------------------------------------------------------


def test_dashboard_states(world):
    award = reporting_award(world)
    rows = reports.reports_due_for([world["organization"].pk], today=D(2026, 8, 2))
    assert [(r.due.kind, r.state) for r in rows] == [("interim", "overdue"), ("final", "due")]
    report = _filed(world, award)
    rows = reports.reports_due_for([world["organization"].pk], today=D(2026, 8, 2))
    assert rows[0].state == "submitted" and rows[0].report == report
    reports.request_changes(report, by=world["officer"], message="More detail")
    assert reports.reports_due_for([world["organization"].pk])[0].state == "changes_requested"
    assert reports.reports_due_for([OrganizationFactory().pk]) == []
