"""What the applicant's answers look like on a page, for the public views and the admin alike:
the sections of the form, each answer ready to read (choices as their labels, budgets with
their total, files). No request, no permission check: callers check access first.
"""

from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.translation import gettext as _
from djmoney.money import Money

from cms.models import call_page_for
from grants.models import Application
from grants.questions import Question, Section, split_sections
from grants.services import answers as answer_forms


def sections_for(application: Application) -> list[Section]:
    """Sections to show: the snapshot once submitted, else the call page in the reader's language."""
    if application.question_snapshot:
        return [
            Section(
                number=section["number"],
                heading=section["section"],
                help_text=section.get("section_help", ""),
                questions=tuple(Question.from_dict(q) for q in section["questions"]),
            )
            for section in application.question_snapshot
        ]
    page = call_page_for(application.call, translation.get_language())
    questions = page.get_questions() if page else []
    return split_sections(questions, first_heading=_("About your request"))


def attachments_by_question(application):
    grouped = {}
    for attachment in application.attachments.all():
        grouped.setdefault(attachment.question_id, []).append(attachment)
    return grouped


class BudgetLines(list):
    """Budget lines ready to display, with amounts as ``Money`` and their ``total``."""

    total = None


def budget_display(question: Question, lines, currency: str) -> BudgetLines:
    result = BudgetLines()
    total = Money(0, currency)
    for line in lines or []:
        amount = line.get("amount")
        try:
            amount = Money(Decimal(str(amount).replace(",", "")), currency)
            total += amount
        except (InvalidOperation, ValueError):
            pass  # a draft may hold what was typed; show it as typed
        result.append({**line, "category": answer_forms.choice_label(question.categories, line.get("category")),
                       "amount": amount})  # fmt: skip
    result.total = total
    return result


def display_value(question: Question, value, attachments, currency: str = "USD") -> object:
    if question.type == "file":
        return attachments.get(question.id, [])
    if question.type == "yes_no":
        return {"yes": _("Yes"), "no": _("No")}.get(value, value or "")
    if question.type == "consent":
        return _("Agreed") if value in (True, "on", "true", "True") else _("Not agreed")
    if question.type == "single_choice":
        return answer_forms.choice_label(question.choices, value) if value not in (None, "") else ""
    if question.type == "multiple_choice":
        return ", ".join(answer_forms.choice_label(question.choices, key) for key in (value or []))
    if question.type == "budget":
        return budget_display(question, value, currency)
    if question.type == "number":
        return answer_forms.display_number(question, value)
    if question.type == "money":
        return answer_forms.display_money(value, currency)
    return value


def answer_rows(application, sections, *, hide_sensitive: bool = False):
    """Per section, each question with its answer ready to display (sensitive included: only
    members of the organization and staff of the foundation reach the pages that use this;
    ``hide_sensitive`` leaves those answers out for staff who are not officers)."""
    attachments = attachments_by_question(application)
    rows = []
    for section in sections:
        items = []
        for question in section.questions:
            if hide_sensitive and question.sensitive:
                continue
            store = application.sensitive_answers if question.sensitive else application.answers
            items.append(
                {
                    "question": question,
                    "value": display_value(
                        question, store.get(question.id), attachments, application.call.fund.currency
                    ),
                }
            )
        rows.append({"section": section, "items": items})
    return rows
