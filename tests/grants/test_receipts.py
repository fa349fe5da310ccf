"""Donation receipts, offline gifts and donors' yearly summaries."""

import datetime

import pytest
from django.utils import timezone
from djmoney.money import Money

from grants.models import Donation, DonationStatus, Donor, GiftKind, Role
from grants.services import receipts
from grants.services.receipts import ReceiptError, issue_receipt, resend_receipt
from tests.factories import FoundationFactory, FundFactory
from tests.grants.money_fixtures import staff

TAX_TEXT = "Bay Area Foundation is a 501(c)(3) public charity; gifts are deductible as allowed by law."


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
            "March 14, 2026",
            "Rapid Defense Fund",
            "One-time gift",
            TAX_TEXT,
            "No goods or services were provided in exchange for this gift.",
            "https://x.test/manage/abc",
            "For Rosa",
        ):
            assert expected in body, (expected, body)
    assert "BAY-AREA-000001" in message.subject


def test_receipt_in_spanish(receipt_world, mailoutbox, django_capture_on_commit_callbacks):
    donor = donor_of(receipt_world["foundation"], email="luis@example.org", name="Luis Gómez", language="es")
    donation = gift(receipt_world["fund"], donor, amount=1500, kind=GiftKind.MONTHLY)
    issued(donation, django_capture_on_commit_callbacks)
    (message,) = mailoutbox
    assert message.to == ["luis@example.org"]
    for body in _bodies(message)[1:]:
        # Amount and date are in Spanish form, whatever the catalogue holds for the labels.
        for expected in ("BAY-AREA-000001", "Bay Area Community Foundation Inc.", "12-3456789", "Luis Gómez",
                         "1.500,00", "14 de marzo de 2026", "Rapid Defense Fund", TAX_TEXT):  # fmt: skip
            assert expected in body, (expected, body)
        assert "$1,500.00" not in body
    assert 'lang="es"' in message.alternatives[0][0]
    assert "manage" not in message.body


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
