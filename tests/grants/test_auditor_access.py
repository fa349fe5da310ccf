"""Auditors read everything of their foundation in Wagtail admin and change nothing.

One realistic foundation (a submitted application with a sensitive answer, an accepted award
paid by check with a spending report, a second award paid through Stripe, a donation, a stipend
month, journal entries) and a second foundation with its own award, fund and donor. The auditor
gets 200 on every read page of their foundation; every admin URL that writes — collected from the
project's URL patterns, not typed by hand — refuses the auditor's POST, and no row changes.
"""

import datetime
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from djmoney.money import Money
from wagtail.models import Page, Revision

from grants.admin.applications import ACTIONS as APPLICATION_ACTIONS
from grants.admin.awards import AWARD_ACTIONS, INSTALLMENT_ACTIONS
from grants.admin.money import FORMS as MONEY_FORMS
from grants.demo_questions import eligibility_json, questions_json
from grants.models import (
    ROLE_GROUP_NAMES,
    ActivityEntry,
    DecisionMessage,
    Donation,
    DonationStatus,
    Donor,
    EntryCause,
    GiftKind,
    JournalEntry,
    Role,
)
from grants.services import applications as application_service
from grants.services import exports as export_service
from grants.services import payments, reports, stipends
from grants.services.staff import add_staff
from tests import pages
from tests.factories import (
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.grants.money_fixtures import approved, award_for, fund_with, staff, usd
from tests.grants.report_helpers import D, reporting_award, spend
from tests.grants.test_admin_payments import due_award, onboard
from tests.grants.test_applications import _draft
from tests.grants.test_stipends import _program, compute, shift

SENSITIVE_TEXT = "Retaliation by employers"
PLAIN_TEXT = "Two lawyers on call for detentions."

# Admin areas whose every URL is checked, by URL namespace.
GRANT_NAMESPACES = {
    "applications", "reviews", "decision-messages", "awards", "fund_money", "payments", "donations_admin",
    "stipends_admin", "reports_admin", "foundations", "funds", "calls", "activity", "exports",
}  # fmt: skip
# URL names (after the namespace) that change something when POSTed to.
WRITE_NAME = re.compile(
    r"(^|_)(action|add|new|edit|delete|create|copy|make|intake|batch|approve|release|pay|cancel|confirm"
    r"|confirm_return|resend|record|reverse|accept|request_changes|changes|declare|score|installment_action"
    r"|unpublish|move|move_confirm|lock|unlock|set_privacy|revert|unschedule|convert_alias|add_subpage"
    r"|set_page_position|workflow_action)($|_)"
)
# Wagtail's own admin areas: creating or changing users, groups, sites, settings... is refused too.
WAGTAIL_WRITES = {
    "wagtailusers_users:add", "wagtailusers_users:edit", "wagtailusers_groups:add", "wagtailusers_groups:edit",
    "wagtailsites:add", "wagtaillocales:add", "wagtailadmin_collections:add", "wagtailredirects:add",
    "wagtailimages:add", "wagtaildocs:add", "wagtailadmin_workflows:add", "wagtailsettings:edit",
}  # fmt: skip
REFUSED_STATUSES = {403, 404, 405}


# --- The world ---------------------------------------------------------------------------------


def gift(fund, donor, amount, **kwargs):
    currency = fund.currency
    return Donation.objects.create(
        foundation=fund.foundation, fund=fund, donor=donor, amount=Money(amount, currency),
        gross=Money(amount, currency), fee=Money(0, currency), status=DonationStatus.COMPLETED,
        received_on=D(2026, 3, 1), **kwargs,
    )  # fmt: skip


def submitted_report(world):
    award = reporting_award(world)
    due = award.report_due_dates.get(kind="interim")
    report = reports.report_for(due, by=world["grantee"])
    spend(report, world, 1200)
    reports.save_draft(
        report, by=world["grantee"], period_start=D(2026, 2, 1), period_end=D(2026, 7, 31),
        narrative="Doce personas representadas.", metrics={}, variance_explanations={},
    )  # fmt: skip
    reports.submit_report(report, by=world["grantee"], metric_definitions=[])
    report.refresh_from_db()
    return award, report


def other_foundation():
    """Another foundation with a funded fund, an award and a donor the auditor must never see."""
    foundation = FoundationFactory(slug="valley", name="Valley Foundation")
    fund = FundFactory(foundation=foundation, name="Valley Secret Fund", currency="USD")
    theirs = {
        "foundation": foundation,
        "fund": fund,
        "officer": staff(foundation, Role.PROGRAM_OFFICER),
        "finance": staff(foundation, Role.FINANCE_OFFICER),
        "organization": OrganizationFactory(name="Valley Hidden Group"),
    }
    fund_with(theirs, 8000)
    theirs["award"] = award_for(theirs, 3000)
    theirs["donor"] = Donor.objects.create(foundation=foundation, email="zoe@example.org", name="Zoe Hidden")
    theirs["donation"] = gift(fund, theirs["donor"], 999)
    return theirs


@pytest.fixture
def scene(world, site, django_capture_on_commit_callbacks):
    foundation, fund = world["foundation"], world["fund"]
    world["admin"] = staff(foundation, Role.FOUNDATION_ADMIN)
    fund_pages = pages.add_fund_page(site, fund)
    call = FundingCallFactory(fund=fund, title="Defense call 2026")
    call_page = pages.add_call_page(fund_pages, call, questions=questions_json, eligibility=eligibility_json)[
        0
    ]
    # A submitted application with a sensitive answer, from the grantee's organization.
    application, sections = _draft(
        {
            "call": call,
            "page": call_page,
            "applicant": world["grantee"],
            "organization": world["organization"],
        }
    )
    application_service.submit_application(
        application, sections=sections, by=world["grantee"], actor="applicant"
    )
    # An accepted award paid by check, with a submitted spending report (and its journal entries).
    award, report = submitted_report(world)
    # A second award paid through (simulated) Stripe: one disbursement.
    paid = due_award(world, 1000)
    onboard(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        disbursement = payments.release_installment(paid.installments.get(), by=world["finance"])
    # An approved application still waiting for its award, a donation, a stipend month.
    waiting = approved(world, 2000)
    donor = Donor.objects.create(foundation=foundation, email="ana@example.org", name="Ana Pérez")
    donation = gift(fund, donor, 150, kind=GiftKind.ONE_TIME, receipt_number=1)
    program = _program(world)
    luna = stipends.add_volunteer(program=program, organization=world["organization"], pseudonym="Luna",
                                  by=world["grantee"])  # fmt: skip
    shift(world, luna, D(2026, 9, 1))
    batch = compute(world, program)
    message = DecisionMessage.objects.create(foundation=foundation, title="Fund spent", body="Spent.",
                                             translations={"es": {"body": "Agotado."}})  # fmt: skip
    entry = JournalEntry.objects.filter(cause=EntryCause.INCOME, lines__account__fund=fund).distinct().first()
    return {
        **world,
        "call": call,
        "fund_page": fund_pages[0],
        "application": application,
        "waiting": waiting,
        "award": award,
        "installment": award.installments.order_by("number").last(),
        "report": report,
        "paid": paid,
        "disbursement": disbursement,
        "donor": donor,
        "donation": donation,
        "program": program,
        "batch": batch,
        "message": message,
        "entry": entry,
        "theirs": other_foundation(),
    }


# --- Helpers -----------------------------------------------------------------------------------


def refused(response) -> bool:
    """Refused: 403/404/405, or Wagtail's redirect to the dashboard or login, or the redirect
    Django's LocaleMiddleware makes of a 404 outside the language prefix."""
    if response.status_code in REFUSED_STATUSES:
        return True
    if response.status_code != 302:
        return False
    location = response["Location"]
    return location in ("/admin/", reverse("wagtailadmin_home")) or location.startswith(
        ("/admin/login/", "/en/admin/")
    )


def get_status(client, url) -> int:
    """The status of GET ``url`` (a 404 outside the language prefix is followed to its 404)."""
    response = client.get(url)
    if response.status_code == 302 and response["Location"].startswith("/en/admin/"):
        return client.get(url, follow=True).status_code
    return response.status_code


def snapshot() -> dict:
    """Every row of the domain, the page tree and its revisions, and the mail sent."""
    state = {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_app_config("grants").get_models()
    }
    users = state.get("grants.User", [])
    for user in users:
        user.pop("last_login", None)
    state["pages"] = list(Page.objects.order_by("pk").values("pk", "title", "live", "locked", "path",
                                                              "latest_revision_id", "has_unpublished_changes"))  # fmt: skip
    state["revisions"] = Revision.objects.count()
    state["groups"] = sorted(Group.objects.values_list("pk", "name"))
    state["mail"] = len(mail.outbox)
    return state


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}", pattern.default_args


def admin_routes() -> list[tuple[str, str, dict]]:
    """(route, view name, default kwargs) of every named URL under /admin/."""
    return [(route, name, defaults) for route, name, defaults in walk(get_resolver().url_patterns)
            if route.startswith("admin/")]  # fmt: skip


def is_write(name: str) -> bool:
    namespace, _, short = name.rpartition(":")
    if name in WAGTAIL_WRITES:
        return True
    if namespace == "wagtailadmin_pages":
        return bool(WRITE_NAME.search(short)) and "preview" not in short
    return namespace in GRANT_NAMESPACES and bool(WRITE_NAME.search(short))


def slugs_for(name: str) -> list[str]:
    """The ``action`` values a route with an ``<action>`` slug accepts."""
    return {
        "applications:action": list(APPLICATION_ACTIONS),
        "awards:action": list(AWARD_ACTIONS),
        "awards:installment_action": list(INSTALLMENT_ACTIONS),
        "fund_money:action": list(MONEY_FORMS),
    }.get(name, ["x"])


def kwargs_for(name: str, s: dict) -> dict:
    """Path arguments pointing at the auditor's own foundation's rows."""
    namespace = name.rpartition(":")[0]
    pks = {
        "applications": s["application"].pk, "awards": s["award"].pk, "foundations": s["foundation"].pk,
        "funds": s["fund"].pk, "calls": s["call"].pk, "decision-messages": s["message"].pk,
        "donations_admin": s["donation"].pk if not name.endswith(":donor") else s["donor"].pk,
        "payments": s["disbursement"].pk, "wagtailusers_users": s["auditor"].pk,
        "wagtailusers_groups": Group.objects.get(name=ROLE_GROUP_NAMES[Role.AUDITOR]).pk,
        "wagtailsites": 1,
    }  # fmt: skip
    page = s["fund_page"]
    return {
        "pk": pks.get(namespace, 1),
        "application_id": s["waiting"].pk if name == "awards:make" else s["application"].pk,
        "installment_pk": s["installment"].pk,
        "fund_id": s["fund"].pk,
        "entry_id": s["entry"].pk,
        "due_id": s["report"].due_id,
        "program_id": s["program"].pk,
        "batch_id": s["batch"].pk,
        "page_id": page.pk,
        "page_to_move_id": page.pk,
        "parent_page_id": page.pk,
        "destination_id": page.get_parent().pk,
        "revision_id": page.latest_revision_id,
        "content_type_app_name": "cms",
        "content_type_model_name": "fundingcallpage",
        "app_name": "cms",
        "app_label": "cms",
        "model_name": "sitesettings",
        "token": "0" * 32,
        "attachment_id": 1,
        "task_state_id": 1,
        "action_name": "approve",
    }


def payload(s: dict) -> dict:
    """Data that a person allowed to act would send: each form's fields under its prefix, so a
    missing permission check shows as a change instead of hiding behind a form error."""
    installment, entry = s["installment"].pk, s["entry"].pk
    return {
        # Applications: review actions on the submitted application, batch decisions.
        "start_screening-note": "Screened", "comment-text": "A note", "decline-reason": "No money left",
        "approve-amount": "3000", "request_more_info-message": "Tell us more",
        "action": "approve", "applications": [s["application"].pk],
        # Awards: amend, cancel, complete, hold, record a payment, make an award.
        "amend-new_amount": "6000", "amend-reason": "More cases", "cancel-reason": "Closed", "cancel-confirm": "on",
        "complete-note": "Done", f"hold-{installment}-reason": "Receipts missing",
        f"record_payment-{installment}-paid_on": "2026-03-01", f"record_payment-{installment}-reference": "CHK-9",
        "amount": "2000", "start_date": "2026-02-01", "end_date": "2027-01-31", "schedule_kind": "single",
        "count": "1", "first_due": "2026-02-15", "conditions": "Report",
        # Fund money: income, opening balance, reversing an entry.
        "income-amount": "2500.00", "income-currency": "USD", "income-source": "check",
        "income-received_on": "2026-03-02", "income-reference": "CHK-4410",
        "opening-amount": "12000", "opening-currency": "USD", "opening-as_of": "2026-01-01",
        "opening-reference": "Statement", f"reverse-{entry}-reason": "Typo",
        # Payments: release the paid award's second chance; donations: an offline gift.
        "installment": [s["installment"].pk], f"amount-{s['installment'].pk}": str(s["installment"].amount.amount),
        "fund": s["fund"].pk, "received_on": "2026-03-03", "channel": "check", "reference": "CHK-77",
        "donor_name": "New Donor", "donor_email": "new@example.org", "name": "Hijacked", "title": "Hijacked",
        # Reports: ask for changes.
        "message": "Add the receipts",
        # Stipends: a program.
        "rate": "30", "rate_unit": "shift", "monthly_cap": "200", "active": "on",
        "coordinators": [s["organization"].pk],
        # Wagtail: pages, users, groups.
        "slug": "hijacked", "email": "hijack@example.org", "is_superuser": "on",
        "groups": [g.pk for g in Group.objects.all()],
    }  # fmt: skip


def write_urls(s: dict) -> list[tuple[str, str]]:
    """(view name, URL) of every write endpoint, the ``<action>`` routes once per action."""
    urls = []
    for route, name, _defaults in admin_routes():
        if not is_write(name) or route.startswith("admin/pages/workflow/"):
            continue
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        for slug in slugs_for(name) if "action" in params else [None]:
            kwargs = {k: v for k, v in kwargs_for(name, s).items() if k in params}
            if slug is not None:
                kwargs["action"] = slug
            if "(?P<" in route:
                continue
            urls.append((name if slug is None else f"{name}[{slug}]", reverse(name, kwargs=kwargs or None)))
    return urls


# --- Reading -----------------------------------------------------------------------------------


def read_urls(s: dict) -> dict[str, str]:
    app, award, fund = s["application"], s["award"], s["fund"]
    return {
        "applications list": reverse("applications:index"),
        "application": reverse("applications:inspect", args=[app.pk]),
        "approved application": reverse("applications:inspect", args=[s["waiting"].pk]),
        "application versions": reverse("applications:compare", args=[app.pk]),
        "awards list": reverse("awards:index"),
        "award": reverse("awards:inspect", args=[award.pk]),
        "paid award": reverse("awards:inspect", args=[s["paid"].pk]),
        "fund money": reverse("fund_money:index"),
        "fund money of a fund": reverse("fund_money:detail", args=[fund.pk]),
        "payments to release": reverse("payments:index"),
        "disbursements": reverse("payments:disbursements"),
        "disbursement": reverse("payments:disbursement", args=[s["disbursement"].pk]),
        "payees": reverse("payments:payees"),
        "reconciliation": reverse("payments:reconciliation"),
        "donations": reverse("donations_admin:index"),
        "donation": reverse("donations_admin:donation", args=[s["donation"].pk]),
        "donor": reverse("donations_admin:donor", args=[s["donor"].pk]),
        "stipend programs": reverse("stipends_admin:index"),
        "stipend program": reverse("stipends_admin:program", args=[s["program"].pk]),
        "stipend batch": reverse("stipends_admin:batch", args=[s["batch"].pk]),
        "spending reports": reverse("reports_admin:index"),
        "spending report": reverse("reports_admin:report", args=[s["report"].due_id]),
        "program results": reverse("reports_admin:results"),
        "program results of a fund": reverse("reports_admin:fund_results", args=[fund.pk]),
        "foundations": reverse("foundations:index"),
        "funds": reverse("funds:index"),
        "funding calls": reverse("calls:index"),
        "decision messages": reverse("decision-messages:index"),
        "activity": reverse("activity:index"),
        "exports": reverse("exports:index"),
        "dashboard": reverse("wagtailadmin_home"),
    }


@pytest.fixture
def auditor_client(client, scene):
    client.force_login(scene["auditor"])
    return client


def test_the_auditor_reads_every_page_of_their_foundation(scene, auditor_client):
    urls = read_urls(scene)
    failed = {
        label: status for label, url in urls.items() if (status := get_status(auditor_client, url)) != 200
    }
    assert not failed, f"pages the auditor cannot read (label → status): {failed}"


def test_the_rows_of_the_foundation_are_listed(scene, auditor_client):
    def page(name, *args):
        return auditor_client.get(reverse(name, args=args)).content.decode()

    assert scene["application"].reference in page("applications:index")
    assert scene["award"].reference in page("awards:index")
    assert "Ana Pérez" in page("donations_admin:index")
    assert "Doce personas representadas." in page("reports_admin:report", scene["report"].due_id)
    assert "Luna" in page("stipends_admin:batch", scene["batch"].pk)
    assert "CHK-10000" in page("fund_money:detail", scene["fund"].pk)


def test_the_auditor_never_sees_sensitive_answers(scene, auditor_client):
    html = auditor_client.get(
        reverse("applications:inspect", args=[scene["application"].pk])
    ).content.decode()
    assert PLAIN_TEXT in html
    assert SENSITIVE_TEXT not in html
    versions = auditor_client.get(reverse("applications:compare", args=[scene["application"].pk]))
    assert SENSITIVE_TEXT not in versions.content.decode()
    # The officer does read it: the text really is in the application.
    auditor_client.force_login(scene["officer"])
    officer_html = auditor_client.get(reverse("applications:inspect", args=[scene["application"].pk]))
    assert SENSITIVE_TEXT in officer_html.content.decode()


def test_nothing_of_another_foundation_is_shown(scene, auditor_client):
    theirs = scene["theirs"]
    for url in (
        reverse("awards:inspect", args=[theirs["award"].pk]),
        reverse("applications:inspect", args=[theirs["award"].application_id]),
        reverse("donations_admin:donation", args=[theirs["donation"].pk]),
        reverse("donations_admin:donor", args=[theirs["donor"].pk]),
        reverse("fund_money:detail", args=[theirs["fund"].pk]),
        reverse("reports_admin:fund_results", args=[theirs["fund"].pk]),
    ):
        assert get_status(auditor_client, url) == 404, url
    assert refused(auditor_client.get(reverse("funds:edit", args=[theirs["fund"].pk])))
    hidden = (
        "Valley Foundation",
        "Valley Secret Fund",
        "Valley Hidden Group",
        "Zoe Hidden",
        theirs["award"].reference,
    )
    leaks = {}
    for label, url in read_urls(scene).items():
        html = auditor_client.get(url).content.decode()
        if shown := [text for text in hidden if text in html]:
            leaks[label] = shown
    assert leaks == {}, f"pages showing another foundation's rows: {leaks}"


def test_list_filters_do_not_name_another_foundations_funds(scene, auditor_client):
    for url in (reverse("funds:index"), reverse("calls:index")):
        html = auditor_client.get(url).content.decode()
        assert "Valley Secret Fund" not in html and "Valley Foundation" not in html, url


# --- Writing -----------------------------------------------------------------------------------


def test_every_write_endpoint_refuses_the_auditor_and_changes_nothing(scene, auditor_client):
    urls = write_urls(scene)
    data = payload(scene)
    before = snapshot()
    wrong = {}
    for name, url in urls:
        response = auditor_client.post(url, data)
        if not refused(response):
            wrong[name] = (url, response.status_code, response.get("Location", ""))
        after = snapshot()
        changed = [key for key in before if before[key] != after[key]]
        assert not changed, f"POST {url} ({name}) by the auditor changed {changed}"
    assert not wrong, f"write endpoints that did not refuse the auditor: {wrong}"
    # The net was cast wide: every area's actions are in it.
    names = {name.split("[")[0] for name, _url in urls}
    expected = {
        "applications:action", "applications:batch", "applications:intake", "applications:add",
        "applications:edit", "applications:delete", "awards:action", "awards:installment_action", "awards:make",
        "fund_money:action", "fund_money:reverse", "payments:release", "donations_admin:record",
        "donations_admin:resend", "stipends_admin:new", "stipends_admin:edit", "stipends_admin:approve",
        "stipends_admin:cancel", "stipends_admin:pay", "reports_admin:accept", "reports_admin:request_changes",
        "reports_admin:confirm_return", "foundations:edit", "funds:add", "funds:edit", "funds:delete",
        "calls:add", "calls:edit", "calls:delete", "decision-messages:add", "decision-messages:edit",
        "decision-messages:delete", "reviews:declare", "reviews:score", "wagtailadmin_pages:edit",
        "wagtailadmin_pages:delete", "wagtailadmin_pages:unpublish", "wagtailadmin_pages:add",
        "wagtailusers_users:edit", "wagtailusers_groups:edit",
    }  # fmt: skip
    assert expected <= names, f"not collected: {expected - names}"
    assert len(urls) >= 60


def test_get_on_the_write_pages_is_refused_too(scene, auditor_client):
    """The forms behind the actions (edit a fund, a call, a page; record a gift...) do not open."""
    forms = {
        "foundations:edit": [scene["foundation"].pk], "funds:edit": [scene["fund"].pk],
        "calls:edit": [scene["call"].pk], "funds:add": [], "calls:add": [],
        "decision-messages:edit": [scene["message"].pk], "donations_admin:record": [],
        "stipends_admin:new": [], "stipends_admin:edit": [scene["program"].pk], "awards:make": [scene["waiting"].pk],
        "applications:intake": [], "applications:batch": [], "wagtailadmin_pages:edit": [scene["fund_page"].pk],
        "wagtailadmin_pages:delete": [scene["fund_page"].pk],
    }  # fmt: skip
    opened = {}
    for name, args in forms.items():
        response = auditor_client.get(reverse(name, args=args))
        if not refused(response):
            opened[name] = response.status_code
    assert not opened, f"forms the auditor could open: {opened}"


def test_the_auditor_cannot_change_pages_or_funds(scene, auditor_client):
    page, fund, call = scene["fund_page"], scene["fund"], scene["call"]
    title = page.title
    response = auditor_client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]),
                                   {"title": "Hijacked", "slug": page.slug, "action-publish": "1"})  # fmt: skip
    assert refused(response)
    page.refresh_from_db()
    assert page.title == title
    for prefix, obj, field in (("funds", fund, "name"), ("calls", call, "title"),
                               ("foundations", scene["foundation"], "name")):  # fmt: skip
        before = getattr(obj, field)
        assert refused(auditor_client.post(f"/admin/{prefix}/edit/{obj.pk}/", {field: "Hijacked"}))
        obj.refresh_from_db()
        assert getattr(obj, field) == before


def test_the_payloads_do_change_things_for_the_people_allowed_to(scene, client):
    """Control for the matrix: the same POSTs succeed for an officer and finance staff, so a
    refusal above is the permission check, not a malformed form."""
    data = payload(scene)
    client.force_login(scene["officer"])
    entries = ActivityEntry.objects.count()
    client.post(reverse("applications:action", args=[scene["application"].pk, "comment"]), data)
    assert ActivityEntry.objects.count() == entries + 1
    client.post(reverse("awards:action", args=[scene["award"].pk, "amend"]), data)
    scene["award"].refresh_from_db()
    assert scene["award"].amount == usd(6000)
    client.force_login(scene["finance"])
    journal = JournalEntry.objects.count()
    client.post(reverse("fund_money:action", args=[scene["fund"].pk, "income"]), data)
    assert JournalEntry.objects.count() == journal + 1


# --- Exports: only admins, finance and auditors ----------------------------------------------


def test_a_program_officer_cannot_export(scene, client, django_capture_on_commit_callbacks):
    officer = UserFactory(is_staff=True)
    add_staff(officer, foundation=scene["foundation"], role=Role.PROGRAM_OFFICER)
    assert export_service.may_export(scene["auditor"], scene["foundation"])
    assert not export_service.may_export(officer, scene["foundation"])
    with django_capture_on_commit_callbacks(execute=True):
        job = export_service.request_export(foundation=scene["foundation"], by=scene["auditor"],
                                            date_from=D(2026, 1, 1), date_to=D(2026, 12, 31))  # fmt: skip
    job.refresh_from_db()
    client.force_login(officer)
    for url in (reverse("exports:index"), reverse("exports:detail", args=[job.pk]),
                reverse("exports:download", args=[job.pk])):  # fmt: skip
        assert refused(client.get(url)), url
    with pytest.raises(export_service.ExportRefused):
        export_service.export_download(job, by=officer)
    # The auditor who asked for it downloads it.
    client.force_login(scene["auditor"])
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 200


# --- The activity page -------------------------------------------------------------------------


def test_activity_lists_the_foundations_entries_newest_first(scene, auditor_client):
    theirs = scene["theirs"]
    ActivityEntry.objects.create(foundation=theirs["foundation"], subject_type="award", subject_id=1,
                                 action="cancel", note="Valley secret note")  # fmt: skip
    latest = ActivityEntry.objects.create(foundation=scene["foundation"], actor=scene["finance"],
                                          subject_type="donation", subject_id=scene["donation"].pk,
                                          action="receipt_resent", note="Asked by phone")  # fmt: skip
    response = auditor_client.get(reverse("activity:index"))
    rows = response.context["rows"]
    assert rows[0].pk == latest.pk
    assert {row.foundation_id for row in rows} == {scene["foundation"].pk}
    html = response.content.decode()
    assert "Receipt sent again" in html and "Asked by phone" in html
    assert reverse("donations_admin:donation", args=[scene["donation"].pk]) in html
    assert "Valley secret note" not in html


def test_activity_filters_by_subject_and_period(scene, auditor_client):
    url = reverse("activity:index")
    awards_only = auditor_client.get(url, {"subject_type": "award"}).context["rows"]
    assert awards_only and {row.subject_type for row in awards_only} == {"award"}
    today = timezone.localdate()
    assert auditor_client.get(url, {"date_from": today.isoformat()}).context["page"].paginator.count > 0
    future = (today + datetime.timedelta(days=2)).isoformat()
    assert auditor_client.get(url, {"date_from": future}).context["page"].paginator.count == 0
    backwards = auditor_client.get(url, {"date_from": future, "date_to": today.isoformat()})
    assert "The end of the period is before its start." in backwards.content.decode()


def test_activity_is_paginated_with_constant_queries(scene, auditor_client, django_assert_max_num_queries):
    url = reverse("activity:index")
    with django_assert_max_num_queries(60) as first:
        auditor_client.get(url)
    users = [scene["officer"], scene["finance"], scene["admin"], scene["grantee"]]
    ActivityEntry.objects.bulk_create(
        ActivityEntry(foundation=scene["foundation"], actor=users[n % 4], subject_type="installment",
                      subject_id=n, action="hold", from_state="due", to_state="held")
        for n in range(120)
    )  # fmt: skip
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = auditor_client.get(url, {"p": 2})
    assert len(response.context["rows"]) == 50


@pytest.mark.parametrize("role", ["admin", "finance", "auditor", "officer"])
def test_activity_is_for_admins_finance_and_auditors(scene, client, role):
    client.force_login(scene[role])
    allowed = role != "officer"
    assert (get_status(client, reverse("activity:index")) == 200) is allowed
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    assert (reverse("activity:index") in dashboard) is allowed
