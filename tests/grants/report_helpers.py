"""Helpers for the spending-report tests: an award with an approved budget, ready to report on."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from grants.services import awards, installments, reports
from tests.grants.money_fixtures import award_for, fund_with, usd

D = datetime.date
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
BUDGET = [("0", "Legal fees", "3000"), ("1", "Filing fees", "1000"), ("2", "Interpreters", "1000")]
METRICS = [
    {"key": "people_represented", "label": "People represented", "kind": "number"},
    {"key": "highlights", "label": "Highlights", "kind": "text"},
]


def set_budget(application, lines=BUDGET, categories=("Legal fees", "Filing fees", "Interpreters")):
    """Give ``application`` a question snapshot with a budget question and budget answers."""
    application.question_snapshot = [
        {
            "number": 1,
            "heading": "Budget",
            "questions": [
                {"id": "budget", "type": "budget", "label": "Budget", "categories": list(categories)},
            ],
        }
    ]
    application.answers = {
        "budget": [{"category": pos, "description": label, "amount": amount} for pos, label, amount in lines]
    }
    application.save(update_fields=["question_snapshot", "answers"])


def reporting_award(world, *, amount=5000, schedule=None, paid=True, lines=BUDGET, **call_fields):
    """An accepted award of ``amount`` with a budget (3 categories), first payment made if ``paid``."""
    fund_with(world, amount * 2)
    award = award_for(world, amount, schedule=schedule)
    set_budget(award.application, lines)
    call = award.application.call
    for name, value in call_fields.items():
        setattr(call, name, value)
    call.save()
    award = awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    if paid:
        first = award.installments.order_by("number").first()
        installments.record_payment_outside_processor(
            first,
            by=world["finance"],
            paid_on=D(2026, 2, 1),
            reference=f"CHK-{first.pk}",  # one check per payment: a reference counts once
        )
    award.refresh_from_db()
    return award


def pdf(name="receipt.pdf", size=None):
    data = PDF if size is None else PDF + b"0" * (size - len(PDF))
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, io.BytesIO(data).read(), content_type=content_type)


def spend(report, world, amount, category="0", *, date=None, receipt=True):
    return reports.add_expenditure(
        report,
        by=world["grantee"],
        date=date or D(2026, 3, 1),
        category=category,
        description="Hearing preparation",
        amount=usd(amount),
        receipt=pdf() if receipt else None,
        today=D(2026, 9, 1),
    )
