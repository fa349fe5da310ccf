"""Donation receipts, offline gifts and donors' yearly summaries."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from djmoney.money import Money

from grants.models import (
    ActivityEntry,
    Donation,
    DonationStatus,
    Donor,
    EntryCause,
    GiftKind,
    JournalEntry,
    PaymentChannel,
    Role,
)
from grants.services import receipts
from grants.services.ledger import balances
from grants.services.offline_gifts import OfflineGiftError, record_offline_gift
from grants.services.receipts import ReceiptError, issue_receipt, resend_receipt
from grants.tasks import send_donor_yearly_summaries
from tests.factories import FoundationFactory, FundFactory
from tests.grants.money_fixtures import staff, usd

TAX_TEXT = "Bay Area Foundation is a 501(c)(3) public charity; gifts are deductible as allowed by law."
TAX_TEXT_ES = (
    "Bay Area Foundation es una organización benéfica pública 501(c)(3); las donaciones son deducibles "
    "según lo permita la ley."
)


@pytest.fixture
def receipt_world(world):
    foundation = world["foundation"]
    foundation.legal_name = "Bay Area Community Foundation Inc."
    foundation.tax_id = "12-3456789"
    foundation.receipt_text = TAX_TEXT
    foundation.save()
    return world


def donor_of(foundation, email="ana@example.org", name="Ana Pérez", language="en"):
    donor, _created = Donor.objects.get_or_create(
        foundation=foundation, email=email, defaults={"name": name, "language": language}
    )
    return donor


def gift(fund, donor=None, *, amount=50, status=DonationStatus.COMPLETED, gross=None, refunded=None,
         received_on=datetime.date(2026, 3, 14), **kwargs):  # fmt: skip
    donor = donor or donor_of(fund.foundation)
    currency = fund.currency
    return Donation.objects.create(
        foundation=fund.foundation,
        fund=fund,
        donor=donor,
        amount=Money(amount, currency),
        gross=Money(gross if gross is not None else amount, currency),
        fee=Money(0, currency),
        amount_refunded=Money(refunded, currency) if refunded is not None else None,
        status=status,
        received_on=received_on,
        completed_at=timezone.now() if status != DonationStatus.PENDING else None,
        **kwargs,
    )


def issued(donation, capture, **kwargs):
    with capture(execute=True):
        issue_receipt(donation, **kwargs)
    donation.refresh_from_db()
    return donation


# --- Receipt numbers -----------------------------------------------------------------------


def test_numbers_are_sequential_per_foundation_and_independent(
    receipt_world, django_capture_on_commit_callbacks
):
    fund = receipt_world["fund"]
    other_fund = FundFactory(foundation=FoundationFactory(slug="valley"), currency="USD")
    first = issued(gift(fund), django_capture_on_commit_callbacks)
    elsewhere = issued(gift(other_fund, donor_of(other_fund.foundation)), django_capture_on_commit_callbacks)
    second = issued(gift(fund), django_capture_on_commit_callbacks)
    third = issued(gift(fund), django_capture_on_commit_callbacks)
    assert [first.receipt_number, second.receipt_number, third.receipt_number] == [1, 2, 3]
    assert elsewhere.receipt_number == 1
    assert receipts.receipt_label(fund.foundation, 123) == "BAY-AREA-000123"


def test_issuing_twice_sends_one_email(receipt_world, mailoutbox, django_capture_on_commit_callbacks):
    donation = issued(gift(receipt_world["fund"]), django_capture_on_commit_callbacks)
    sent_at = donation.receipt_sent_at
    issued(donation, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ana@example.org"]
    donation.refresh_from_db()
    assert donation.receipt_number == 1 and donation.receipt_sent_at == sent_at


@pytest.mark.parametrize("status", [DonationStatus.PENDING, DonationStatus.EXPIRED])
def test_gifts_not_received_get_no_receipt(
    receipt_world, mailoutbox, django_capture_on_commit_callbacks, status
):
    donation = issued(gift(receipt_world["fund"], status=status), django_capture_on_commit_callbacks)
    assert donation.receipt_number is None and donation.receipt_sent_at is None
    assert mailoutbox == []


def _bodies(message) -> list[str]:
    return [message.subject, message.body, message.alternatives[0][0]]


def test_receipt_in_english_has_everything(receipt_world, mailoutbox, django_capture_on_commit_callbacks):
    donation = gift(receipt_world["fund"], amount=100, gross="103.20", cover_fee=True, dedication="For Rosa")
    issued(
        donation,
        django_capture_on_commit_callbacks,
        extra_context={"manage_url": "https://x.test/manage/abc"},
    )
    (message,) = mailoutbox
    for body in _bodies(message)[1:]:
        for expected in (
            "BAY-AREA-000001",
            "Bay Area Community Foundation Inc.",
            "12-3456789",
            "Ana Pérez",
            "$103.20",
            "Mar 14, 2026",
            "Rapid Defense Fund",
            "One-time gift",
            TAX_TEXT,
            "No goods or services were provided in exchange for this gift.",
            "https://x.test/manage/abc",
            "For Rosa",
        ):
            assert expected in body, (expected, body)
    assert "BAY-AREA-000001" in message.subject


def _spanish_texts(world):
    foundation, fund = world["foundation"], world["fund"]
    foundation.translations = {"es": {"receipt_text": TAX_TEXT_ES}}
    foundation.save()
    fund.translations = {"es": {"name": "Fondo de Defensa Rápida"}}
    fund.save()


def test_receipt_in_spanish(receipt_world, mailoutbox, django_capture_on_commit_callbacks):
    _spanish_texts(receipt_world)
    donor = donor_of(receipt_world["foundation"], email="luis@example.org", name="Luis Gómez", language="es")
    donation = gift(receipt_world["fund"], donor, amount=1500, kind=GiftKind.MONTHLY)
    issued(donation, django_capture_on_commit_callbacks)
    (message,) = mailoutbox
    assert message.to == ["luis@example.org"]
    for body in _bodies(message)[1:]:
        for expected in ("BAY-AREA-000001", "Bay Area Community Foundation Inc.", "12-3456789", "Luis Gómez",
                         "1.500,00", "14 mar 2026", "Fondo de Defensa Rápida", TAX_TEXT_ES,
                         "No se proporcionaron bienes ni servicios a cambio de esta donación."):  # fmt: skip
            assert expected in body, (expected, body)
        assert "$1,500.00" not in body and TAX_TEXT not in body and "Rapid Defense Fund" not in body
    assert 'lang="es"' in message.alternatives[0][0]
    assert "manage" not in message.body


def _sentences(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if any(ch.isalpha() for ch in line)}


@pytest.mark.parametrize("part", [1, 2], ids=["text", "html"])
def test_the_spanish_receipt_has_no_english_sentence(
    receipt_world, mailoutbox, django_capture_on_commit_callbacks, part
):
    """The same gift receipted in English and in Spanish (same donor name): no line of the
    English receipt appears in the Spanish one."""
    _spanish_texts(receipt_world)
    foundation, fund = receipt_world["foundation"], receipt_world["fund"]
    for email, language in (("en@example.org", "en"), ("es@example.org", "es")):
        donor = donor_of(foundation, email=email, name="Ana Pérez", language=language)
        issued(gift(fund, donor, amount=100, dedication="Rosa"), django_capture_on_commit_callbacks)
    english, spanish = (_bodies(message)[part] for message in mailoutbox)

    leaked = {line for line in _sentences(english) & _sentences(spanish) if "Ana Pérez" not in line}
    html_only = {"<table>", "</table>", "</body></html>"}
    assert leaked - html_only == set()
    assert TAX_TEXT in english and TAX_TEXT_ES in spanish


def test_a_receipt_statement_not_yet_translated_reads_in_english_rather_than_missing(
    receipt_world, mailoutbox, django_capture_on_commit_callbacks
):
    donor = donor_of(receipt_world["foundation"], email="luis@example.org", name="Luis Gómez", language="es")
    issued(gift(receipt_world["fund"], donor), django_capture_on_commit_callbacks)
    (message,) = mailoutbox
    assert TAX_TEXT in message.body and "Rapid Defense Fund" in message.body


def test_anonymous_donor_still_named_on_receipt(
    receipt_world, mailoutbox, django_capture_on_commit_callbacks
):
    issued(gift(receipt_world["fund"], anonymous=True), django_capture_on_commit_callbacks)
    assert "Ana Pérez" in mailoutbox[0].body
    assert "Anonymous" not in mailoutbox[0].body


# --- Resending -----------------------------------------------------------------------------


def test_resend_keeps_the_number(receipt_world, mailoutbox, django_capture_on_commit_callbacks):
    donation = issued(gift(receipt_world["fund"]), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        resend_receipt(donation, by=receipt_world["finance"])
    donation.refresh_from_db()
    assert donation.receipt_number == 1
    assert len(mailoutbox) == 2
    assert "BAY-AREA-000001" in mailoutbox[1].body


@pytest.mark.parametrize("who", ["officer", "auditor", "other_admin"])
def test_resend_refused(receipt_world, mailoutbox, django_capture_on_commit_callbacks, who):
    donation = issued(gift(receipt_world["fund"]), django_capture_on_commit_callbacks)
    if who == "other_admin":
        user = staff(FoundationFactory(slug="elsewhere"), Role.FOUNDATION_ADMIN)
    else:
        user = receipt_world[who]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ReceiptError):
        resend_receipt(donation, by=user)
    assert len(mailoutbox) == 1


def test_resend_refused_for_a_pending_gift(receipt_world, mailoutbox):
    donation = gift(receipt_world["fund"], status=DonationStatus.PENDING)
    with pytest.raises(ReceiptError):
        resend_receipt(donation, by=receipt_world["finance"])
    assert mailoutbox == []


# --- Offline gifts -------------------------------------------------------------------------


def offline(world, capture=None, **overrides):
    arguments = {
        "fund": world["fund"],
        "donor_name": "Rosa Díaz",
        "donor_email": "Rosa@Example.org",
        "amount": usd("250.00"),
        "channel": PaymentChannel.CHECK,
        "received_on": datetime.date(2026, 2, 3),
        "reference": "CHK 1042",
        "by": world["finance"],
        **overrides,
    }
    if capture is None:
        return record_offline_gift(**arguments)
    with capture(execute=True):
        return record_offline_gift(**arguments)


def test_offline_gift_posts_the_ledger_and_sends_the_receipt(
    receipt_world, mailoutbox, django_capture_on_commit_callbacks
):
    donation = offline(receipt_world, django_capture_on_commit_callbacks, language="es")
    donation.refresh_from_db()
    assert donation.status == DonationStatus.COMPLETED
    assert donation.gross == usd(250) and donation.fee == usd(0)
    assert donation.channel == PaymentChannel.CHECK and donation.created_by == receipt_world["finance"]
    assert donation.donor.email == "rosa@example.org" and donation.donor.language == "es"
    assert donation.receipt_number == 1
    fund_balances = balances(receipt_world["fund"])
    assert fund_balances.donations == usd(250)
    assert fund_balances.cash == usd(250)
    (entry,) = JournalEntry.objects.filter(donation=donation)
    assert entry.idempotency_key == f"donation:{donation.pk}:received"
    assert entry.cause == EntryCause.DONATION
    assert [m.to for m in mailoutbox] == [["rosa@example.org"]]

    # The same person again: one donor, their name kept up to date; no receipt when not asked.
    again = offline(receipt_world, django_capture_on_commit_callbacks, donor_name="Rosa M. Díaz",
                    donor_email="rosa@example.org", send_receipt=False, channel=PaymentChannel.CASH,
                    reference="")  # fmt: skip
    assert Donor.objects.filter(foundation=receipt_world["foundation"]).count() == 1
    assert again.donor.name == "Rosa M. Díaz" and again.receipt_number is None
    assert len(mailoutbox) == 1
    assert balances(receipt_world["fund"]).donations == usd(500)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": usd(0)}, "amount"),
        ({"amount": usd(-5)}, "amount"),
        ({"amount": Money("10.00", "EUR")}, "amount"),
        ({"amount": usd("10.005")}, "amount"),
        ({"donor_email": ""}, "donor_email"),
        ({"donor_email": "not-an-email"}, "donor_email"),
        ({"donor_name": " "}, "donor_name"),
        ({"channel": PaymentChannel.STRIPE}, "channel"),
        ({"reference": ""}, "reference"),
        ({"received_on": datetime.date.today() + datetime.timedelta(days=2)}, "received_on"),
    ],
)
def test_offline_gift_refuses_bad_input(receipt_world, mailoutbox, overrides, field):
    with pytest.raises(OfflineGiftError) as refused:
        offline(receipt_world, **overrides)
    assert refused.value.field == field
    assert str(refused.value.message)
    assert not Donation.objects.exists() and not JournalEntry.objects.exists()


@pytest.mark.parametrize("who", ["officer", "auditor", "other_finance"])
def test_offline_gift_only_by_finance_of_the_foundation(receipt_world, who):
    if who == "other_finance":
        user = staff(FoundationFactory(slug="elsewhere"), Role.FINANCE_OFFICER)
    else:
        user = receipt_world[who]
    with pytest.raises(OfflineGiftError):
        offline(receipt_world, by=user)
    assert not Donation.objects.exists()
    assert balances(receipt_world["fund"]).donations == usd(0)


def test_offline_gift_in_japanese_yen_has_no_decimals(receipt_world):
    fund = FundFactory(
        foundation=receipt_world["foundation"], currency="JPY", fundraising_goal=Money(1, "JPY")
    )
    with pytest.raises(OfflineGiftError):
        offline(receipt_world, fund=fund, amount=Money("100.50", "JPY"))
    donation = offline(receipt_world, fund=fund, amount=Money(5000, "JPY"), send_receipt=False)
    assert balances(fund).donations == Money(5000, "JPY")
    assert donation.gross == Money(5000, "JPY")


# --- Yearly summaries ----------------------------------------------------------------------


def test_yearly_summary_totals_and_sent_once(receipt_world, mailoutbox, django_capture_on_commit_callbacks):
    fund = receipt_world["fund"]
    ana = donor_of(fund.foundation)
    luis = donor_of(fund.foundation, email="luis@example.org", name="Luis Gómez", language="es")
    gift(fund, ana, amount=100, received_on=datetime.date(2026, 1, 10), receipt_number=7)
    gift(fund, ana, amount=60, refunded=20, status=DonationStatus.PARTIALLY_REFUNDED,
         received_on=datetime.date(2026, 6, 1), receipt_number=8)  # fmt: skip
    gift(fund, ana, amount=999, received_on=datetime.date(2025, 12, 31))  # another year
    gift(fund, ana, amount=500, status=DonationStatus.PENDING)  # never received
    gift(fund, ana, amount=30, refunded=30, status=DonationStatus.REFUNDED)  # all given back
    gift(fund, luis, amount=25, received_on=datetime.date(2026, 4, 2))
    gift(FundFactory(foundation=FoundationFactory(slug="valley")), donor_of(FoundationFactory()), amount=5)

    with django_capture_on_commit_callbacks(execute=True):
        sent = receipts.send_donor_summaries(2026, foundation=fund.foundation)
    assert sent == 2
    by_donor = {tuple(m.to): m for m in mailoutbox}
    assert set(by_donor) == {("ana@example.org",), ("luis@example.org",)}
    ana_mail = by_donor[("ana@example.org",)]
    for body in (ana_mail.body, ana_mail.alternatives[0][0]):
        assert "$140.00" in body  # 100 + (60 - 20)
        assert "$40.00" in body and "$100.00" in body
        assert "BAY-AREA-000007" in body and "BAY-AREA-000008" in body
        assert "$999.00" not in body and "$500.00" not in body and "$30.00" not in body
        assert "12-3456789" in body and TAX_TEXT in body and "Bay Area Community Foundation Inc." in body
    assert "2026" in ana_mail.subject
    luis_mail = by_donor[("luis@example.org",)]
    assert "25,00" in luis_mail.body and "2 abr 2026" in luis_mail.body

    with django_capture_on_commit_callbacks(execute=True):
        assert receipts.send_donor_summaries(2026) == 1  # only the other foundation's donor
    with django_capture_on_commit_callbacks(execute=True):
        assert receipts.send_donor_summaries(2026) == 0
    assert len(mailoutbox) == 3
    assert (
        ActivityEntry.objects.filter(subject_type="donor", action="yearly_summary_sent", note="2026").count()
        == 3
    )


def test_summary_command_and_task(receipt_world, mailoutbox, django_capture_on_commit_callbacks):
    gift(receipt_world["fund"], amount=10)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_donor_summaries", "--year", "2026", "--foundation", "bay-area", stdout=out)
    assert "Sent 1" in out.getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_donor_yearly_summaries.call(2026) == 0
    assert len(mailoutbox) == 1
    with pytest.raises(CommandError):
        call_command("send_donor_summaries", "--year", "2026", "--foundation", "nowhere")
