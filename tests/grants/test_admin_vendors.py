"""Vendors and vendor payments in Wagtail admin, and the grantee's side of them."""

import datetime

import pytest
from django.urls import reverse

from grants.models import AccessLogEntry, Role, Vendor, VendorPayment, VendorPaymentStatus
from grants.services import vendor_payments
from tests.factories import FoundationFactory
from tests.grants.money_fixtures import staff, usd
from tests.grants.vendor_helpers import PDF, check_vendor, due_award, invoice, stripe_vendor

pytestmark = pytest.mark.django_db
D = datetime.date
V = VendorPaymentStatus


def refused(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


@pytest.fixture
def asked(world):
    vendor = check_vendor(world)
    award = due_award(world)
    return vendor_payments.request_vendor_payment(
        by=world["grantee"], vendor=vendor, installment=award.installments.get(), purpose="Rent for March",
        invoice=invoice(),
    )  # fmt: skip


def url(name, payment=None):
    return reverse(f"vendors:{name}", args=[payment.pk] if payment is not None else [])


@pytest.mark.parametrize("role", ["officer", "finance", "auditor"])
def test_staff_of_the_foundation_see_the_list_the_payment_and_its_invoice(world, asked, client, role):
    client.force_login(world[role])
    page = client.get(url("index"))
    assert page.status_code == 200 and asked.reference_code in page.content.decode()
    assert client.get(url("index") + "?status=paid").content.decode().count(asked.reference_code) == 0
    detail = client.get(url("payment", asked))
    assert detail.status_code == 200
    assert "Rent for March" in detail.content.decode()
    download = client.get(url("invoice", asked))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Cache-Control"].startswith("private, no-store")
    entry = AccessLogEntry.objects.get(user=world[role])
    assert entry.label == f"{asked.reference_code} · invoice"


def test_another_foundations_staff_get_404_everywhere(world, asked, client):
    other = FoundationFactory(slug="other")
    vendor = Vendor.objects.get()
    for role in (Role.PROGRAM_OFFICER, Role.FINANCE_OFFICER, Role.FOUNDATION_ADMIN):
        client.force_login(staff(other, role))
        for name in ("payment", "invoice", "approve", "decline", "cancel", "release", "check"):
            method = client.get if name in ("payment", "invoice") else client.post
            assert method(url(name, asked)).status_code == 404, (role, name)
        assert client.post(reverse("vendors:onboarding", args=[vendor.pk])).status_code == 404
        assert asked.reference_code not in client.get(url("index")).content.decode()
        assert vendor.name not in client.get(url("vendors")).content.decode()
    asked.refresh_from_db()
    assert asked.status == V.REQUESTED


def test_the_officer_approves_and_finance_records_the_check(world, asked, client):
    client.force_login(world["finance"])
    assert refused(client.post(url("approve", asked)))
    client.force_login(world["officer"])
    assert client.post(url("approve", asked)).status_code == 302
    asked.refresh_from_db()
    assert asked.status == V.APPROVED
    assert refused(client.post(url("check", asked), {"check_number": "CHK 1", "paid_on": "2026-03-02"}))

    client.force_login(world["finance"])
    bad = client.post(url("check", asked), {"check_number": "", "paid_on": "2026-03-02"})
    assert bad.status_code == 400
    response = client.post(url("check", asked), {"check_number": "CHK 1", "paid_on": "2026-03-02"})
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.status == V.PAID and asked.check_number == "CHK 1"


def test_declining_needs_a_reason(world, asked, client):
    client.force_login(world["officer"])
    assert client.post(url("decline", asked), {"reason": ""}).status_code == 400
    assert client.post(url("decline", asked), {"reason": "Not a vendor we pay"}).status_code == 302
    asked.refresh_from_db()
    assert asked.status == V.DECLINED and asked.decline_reason == "Not a vendor we pay"


def test_the_approver_cannot_release(world, client, django_capture_on_commit_callbacks):
    admin = staff(world["foundation"], Role.FOUNDATION_ADMIN, email="admin@example.org")
    vendor = stripe_vendor(world, django_capture_on_commit_callbacks)
    due_award(world)
    payment = vendor_payments.request_vendor_payment(
        by=world["officer"], vendor=vendor, fund=world["fund"], organization=world["organization"],
        amount=usd(300), purpose="Water bill",
    )  # fmt: skip
    client.force_login(admin)
    client.post(url("approve", payment))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("release", payment), follow=True)
    assert "another finance officer" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == V.APPROVED
    client.force_login(world["finance"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("release", payment))
    payment.refresh_from_db()
    assert payment.status == V.PAID


def test_finance_adds_vendors_and_sends_the_link(world, client, django_capture_on_commit_callbacks):
    client.force_login(world["officer"])
    assert client.get(url("vendors")).status_code == 200
    assert refused(client.post(url("vendors"), {"name": "X"}))
    client.force_login(world["finance"])
    bad = client.post(url("vendors"), {"foundation": world["foundation"].pk, "name": "A123456789",
                                       "kind": "landlord", "payment_method": "check"})  # fmt: skip
    assert bad.status_code == 400 and not Vendor.objects.exists()
    response = client.post(url("vendors"), {"foundation": world["foundation"].pk, "name": "Luz Utility",
                                            "kind": "utility", "payment_method": "stripe",
                                            "email": "pay@luz.example"})  # fmt: skip
    assert response.status_code == 302
    vendor = Vendor.objects.get()
    assert client.get(reverse("vendors:onboarding", args=[vendor.pk])).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("vendors:onboarding", args=[vendor.pk])).status_code == 302
    assert vendor_payments.vendor_payee(vendor) is not None


def test_an_officer_asks_for_direct_assistance(world, client):
    due_award(world)
    vendor = check_vendor(world)
    client.force_login(world["officer"])
    assert client.get(url("new")).status_code == 200
    missing = client.post(url("new"), {"vendor": vendor.pk, "purpose": "Rent"})
    assert missing.status_code == 400
    a_number = client.post(url("new"), {"vendor": vendor.pk, "purpose": "Bond A-123-456-789",
                                        "fund": world["fund"].pk, "organization": world["organization"].pk,
                                        "amount": "250"})  # fmt: skip
    assert a_number.status_code == 400 and not VendorPayment.objects.exists()
    ok = client.post(url("new"), {"vendor": vendor.pk, "purpose": "Rent for April", "fund": world["fund"].pk,
                                  "organization": world["organization"].pk, "amount": "250"})  # fmt: skip
    assert ok.status_code == 302
    payment = VendorPayment.objects.get()
    assert payment.is_direct_assistance and str(payment.amount.amount) == "250.00"
    client.force_login(world["finance"])
    assert client.get(url("new")).status_code == 404


# --- The grantee's side -------------------------------------------------------------------------------


def test_the_grantee_asks_and_sees_what_was_paid_on_its_behalf(world, client):
    vendor = check_vendor(world)
    award = due_award(world)
    installment = award.installments.get()
    client.force_login(world["grantee"])
    page = client.get(reverse("award_detail", args=[award.pk]))
    assert "Ask that a payment go to a vendor" in page.content.decode()

    post = reverse("award_vendor_payment", args=[award.pk])
    assert client.get(post).status_code == 405
    a_number = client.post(post, {"installment": installment.pk, "vendor": vendor.pk,
                                  "purpose": "Bond for A123456789", "invoice": invoice()})  # fmt: skip
    assert a_number.status_code == 400
    assert "Bond for A123456789" in a_number.content.decode()  # what was typed is kept
    no_invoice = client.post(post, {"installment": installment.pk, "vendor": vendor.pk, "purpose": "Rent"})
    assert no_invoice.status_code == 400
    response = client.post(post, {"installment": installment.pk, "vendor": vendor.pk,
                                  "purpose": "Rent for March", "invoice": invoice()})  # fmt: skip
    assert response.status_code == 302
    payment = VendorPayment.objects.get()
    vendor_payments.approve(payment, by=world["officer"])
    vendor_payments.record_check(payment, by=world["finance"], check_number="CHK 3", paid_on=D(2026, 3, 5))

    page = client.get(reverse("award_detail", args=[award.pk])).content.decode()
    assert "Paid on your behalf" in page
    assert "Bufete Legal Sánchez" in page and "Rent for March" in page and "Paid" in page


def test_other_people_cannot_ask_from_an_award(world, client):
    from tests.factories import UserFactory

    vendor = check_vendor(world)
    award = due_award(world)
    client.force_login(UserFactory())
    post = reverse("award_vendor_payment", args=[award.pk])
    response = client.post(post, {"installment": award.installments.get().pk, "vendor": vendor.pk,
                                  "purpose": "Rent", "invoice": invoice()})  # fmt: skip
    assert response.status_code == 404
    assert not VendorPayment.objects.exists()
