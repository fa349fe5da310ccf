"""Plain words for every code a person sees: what Stripe still needs, what happened to an
application, a withdrawn draft's missing reference, a variance explanation's label after a
failed submit, and a signature never cut short."""

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from grants import plain_words
from grants.models import ActivityEntry, Award, AwardStatus, PayeeAccount
from grants.models import ApplicationStatus as S
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import applications as application_service
from grants.services import payments, reports
from grants.services.workflow import APPLICATION_TRANSITIONS, record
from tests.grants.money_fixtures import approved, award_for, fund_with
from tests.grants.report_helpers import reporting_award, spend

pytestmark = pytest.mark.django_db
SERVICES_SOURCE = "\n".join(
    path.read_text() for path in (Path(__file__).resolve().parents[2] / "grants" / "services").glob("*.py")
)


# --- What Stripe still needs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "code", "words"),
    [
        ("en", "individual.verification.document", "A photo of an identity document"),
        ("es", "individual.verification.document", "Una foto de un documento de identidad"),
        ("en", "external_account", "A bank account to receive the payments"),
        ("es", "external_account", "Una cuenta bancaria para recibir los pagos"),
        ("en", "person_1AbC.verification.document", "A photo of an identity document"),
        ("en", "representative.dob.day", "The representative's date of birth"),
        ("en", "company.address.postal_code", "The organization's address"),
        ("en", "business_profile.url", "A website or social media page"),
        ("en", "something.stripe.adds.next_year", "Another detail Stripe asks for"),
        ("es", "something.stripe.adds.next_year", "Otro dato que pide Stripe"),
    ],
)
def test_each_stripe_requirement_reads_as_words(language, code, words):
    with translation.override(language):
        text = plain_words.stripe_requirement(code)
    assert words in text and code not in text and "_" not in text


def test_a_date_of_birth_is_one_line_not_three():
    codes = ["individual.dob.day", "individual.dob.month", "individual.dob.year", "external_account"]
    assert plain_words.stripe_requirements(codes) == [
        "The representative's date of birth",
        "A bank account to receive the payments",
    ]


def _payee_needing_information(world, django_capture_on_commit_callbacks):
    fund_with(world, 10000)
    award = award_for(world, 1000)
    payments.start_onboarding(organization=world["organization"], foundation=world["foundation"],
                              by=world["grantee"])  # fmt: skip
    payee = PayeeAccount.objects.get(foundation=world["foundation"])
    with django_capture_on_commit_callbacks(execute=True):
        SimulatedGateway(world["foundation"]).complete_onboarding(
            payee.stripe_account_id, "information_needed"
        )
    payee.refresh_from_db()
    assert payee.requirements_due == ["individual.verification.document"]
    return award, payee


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "A photo of an identity document"), ("es", "Una foto de un documento de identidad")],
)
def test_the_payout_page_tells_the_grantee_what_stripe_needs_in_words(
    world, client, django_capture_on_commit_callbacks, language, words
):
    _payee_needing_information(world, django_capture_on_commit_callbacks)
    client.force_login(world["grantee"])
    with translation.override(language):
        url = reverse(
            "payouts", kwargs={"foundation_slug": "bay-area", "organization_id": world["organization"].pk}
        )
    html = client.get(url).content.decode()
    assert words in html
    assert "individual.verification.document" not in html


def test_staff_see_the_same_words_on_the_payout_accounts(world, client, django_capture_on_commit_callbacks):
    _payee_needing_information(world, django_capture_on_commit_callbacks)
    client.force_login(world["finance"])
    html = client.get(reverse("payments:payees")).content.decode()
    assert "A photo of an identity document" in html
    assert "individual.verification.document" not in html


# --- What happened to an application -----------------------------------------------------------


def test_every_application_action_has_words():
    """The workflow's transitions, and the other actions the services record for an application."""
    recorded = {"started", "started_by_staff", "submitted", "withdrawn", "email_sent", "reviewer_assigned",
                "conflict_declared", "no_conflict_declared", "review_submitted", "comment"}  # fmt: skip
    for action in recorded - {"no_conflict_declared"}:  # that one is chosen by a condition
        assert f'"{action}"' in SERVICES_SOURCE, action
    assert set(APPLICATION_TRANSITIONS) | recorded <= set(plain_words.APPLICATION_ACTIVITY)


def test_an_unknown_action_is_words_too():
    assert plain_words.application_activity("some_future_code") == "Other change"
    with translation.override("es"):
        assert plain_words.application_activity("started_by_staff").startswith(
            "Borrador iniciado por el personal"
        )


def test_the_admin_timeline_says_a_draft_was_started_by_staff(world, client):
    application = approved(world)
    record(subject=application, subject_type="application", action="started_by_staff", actor=world["officer"],
           foundation=world["foundation"], to_state=S.DRAFT)  # fmt: skip
    assert ActivityEntry.objects.filter(action="started_by_staff").exists()
    client.force_login(world["officer"])
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "Draft started by staff (phone, paper or in person)" in html
    assert "started_by_staff" not in html


# --- A withdrawn draft has no reference yet ----------------------------------------------------


@pytest.mark.parametrize(("language", "words"), [("en", "(draft, no reference yet)"),
                                                 ("es", "(borrador, aún sin referencia)")])  # fmt: skip
def test_a_withdrawn_draft_shows_words_not_none(world, client, language, words):
    call = approved(world).call
    draft = application_service.start_application(call=call, organization=world["organization"],
                                                  by=world["grantee"], language="es")  # fmt: skip
    application_service.withdraw_application(draft, by=world["grantee"], actor="applicant", note="")
    client.force_login(world["grantee"])
    html = client.get(f"/{language}/dashboard/").content.decode()
    assert words in html
    assert ">None<" not in html


# --- A variance explanation keeps its label after a failed submit ------------------------------


def test_the_explanation_label_is_not_wrapped_again_on_each_failed_submit(world, client):
    award = reporting_award(world)
    due = award.report_due_dates.get(kind="interim")
    report = reports.report_for(due, by=world["grantee"])
    spend(report, world, 2500, category="1")  # Filing fees: 1,000 approved, far off budget
    client.force_login(world["grantee"])
    url = f"/en/reports/{due.pk}/"
    for _attempt in range(3):
        response = client.post(url, {"action": "submit", "period_start": "", "narrative": "x"})
        assert response.status_code == 400
        html = response.content.decode()
        assert "Why Filing fees differs from the budget" in html
        assert "Why Why" not in html and html.count("differs from the budget differs") == 0


# --- A signature is refused, never cut ---------------------------------------------------------


def test_a_signature_longer_than_the_limit_is_refused_and_kept(world, client):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    client.force_login(world["grantee"])
    page = client.get(f"/en/awards/{award.pk}/").content.decode()
    assert 'maxlength="200"' in page and "Up to 200 characters." in page
    long_name = "Ana María " + "López " * 40
    refused = client.post(f"/en/awards/{award.pk}/accept/", {"full_name": long_name, "agree": "on"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "at most 200 characters" in html
    assert long_name.strip() in html  # what was typed stays, to be shortened
    assert Award.objects.get(pk=award.pk).status == AwardStatus.OFFERED
    exact = "A" * 200
    assert (
        client.post(f"/en/awards/{award.pk}/accept/", {"full_name": exact, "agree": "on"}).status_code == 302
    )
    assert Award.objects.get(pk=award.pk).accepted_name == exact


def _recorded_actions():
    """(subject_type, action) of every activity the services write: the state machines'
    transitions and every ``record(…)`` call naming both as literals in the source."""
    import pathlib
    import re

    from grants.payments.webhooks import EVENT_SUBJECT, PAYOUT_FAILED, PAYOUT_SUBJECT
    from grants.services.awards import AWARD_TRANSITIONS
    from grants.services.disbursements import DISBURSEMENT_TRANSITIONS
    from grants.services.donations import DONATION_TRANSITIONS
    from grants.services.installments import INSTALLMENT_TRANSITIONS
    from grants.services.receipts import SUMMARY_ACTION, SUMMARY_SUBJECT_TYPE
    from grants.services.reports import REPORT_TRANSITIONS
    from grants.services.stipends import BATCH_TRANSITIONS
    from grants.services.vendor_payments import VENDOR_PAYMENT_TRANSITIONS
    from grants.services.workflow import APPLICATION_TRANSITIONS
    from grants.tasks import DIGEST_ACTION, DIGEST_SUBJECT_TYPE

    tables = {
        "application": APPLICATION_TRANSITIONS, "award": AWARD_TRANSITIONS, "installment": INSTALLMENT_TRANSITIONS,
        "disbursement": DISBURSEMENT_TRANSITIONS, "donation": DONATION_TRANSITIONS,
        "spending_report": REPORT_TRANSITIONS, "stipend_batch": BATCH_TRANSITIONS,
        "vendor_payment": VENDOR_PAYMENT_TRANSITIONS,
    }  # fmt: skip
    pairs = {(subject, name) for subject, table in tables.items() for name in table}
    pairs |= {
        (PAYOUT_SUBJECT, PAYOUT_FAILED),
        (EVENT_SUBJECT, "reapply"),
        (SUMMARY_SUBJECT_TYPE, SUMMARY_ACTION),
        (DIGEST_SUBJECT_TYPE, DIGEST_ACTION),
    }
    root = pathlib.Path(__file__).resolve().parents[2] / "grants"
    call = re.compile(r"\brecord\((.*?)\)\n", re.S)
    for path in root.rglob("*.py"):
        for body in call.findall(path.read_text()):
            subject = re.search(r'subject_type="(\w+)"', body)
            action = re.search(r'action="(\w+)"', body)
            if subject and action:
                pairs.add((subject.group(1), action.group(1)))
    return sorted(pairs)


def test_every_recorded_action_reads_as_words_in_the_activity_log():
    """The activity log never shows a code: every action the services write has words (the
    areas' own tables or ``grants.plain_words.ACTIVITY_WORDS``)."""
    from grants.admin.activity import action_label
    from grants.models import ActivityEntry
    from grants.plain_words import OTHER_ACTIVITY

    pairs = _recorded_actions()
    assert len(pairs) > 80
    without_words = [
        pair
        for pair in pairs
        if action_label(ActivityEntry(subject_type=pair[0], action=pair[1])) in (pair[1], str(OTHER_ACTIVITY))
    ]
    assert without_words == []
