"""Grantee-facing spending reports: the report page, receipts, and returning unspent money.

Only members of the award's organization open a report (anyone else gets 404); receipts are
also served to the staff of the award's foundation. Every change goes through
``grants.services.reports``; a refusal shows the service's reason and keeps what was typed.
The report page is one form, so adding or removing an expenditure never loses the text being
written: every button saves the draft first.
"""

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from djmoney.money import Money

from cms.models import report_metrics
from grants.budget_labels import category_labels
from grants.forms.reports import ExpenditureForm, ReportForm, ReturnForm
from grants.metrics import display_value
from grants.models import Award, Expenditure, ReportDueDate
from grants.permissions import Capability, can, is_organization_member
from grants.services import reports as service
from grants.services.access_log import record_access
from grants.services.answers import choice_label
from grants.services.errors import DomainError

# Imported as a module: applications.py imports this one for the dashboard's "Reports due".
from grants.views.files import private_file_response


def _due_queryset():
    return ReportDueDate.objects.select_related(
        "award__application__organization", "award__application__call__fund", "award__fund__foundation"
    )


def _due_for_member_or_404(user, due_id: int) -> ReportDueDate:
    due = _due_queryset().filter(pk=due_id).first()
    if due is None or not is_organization_member(user, due.award.application.organization_id):
        raise Http404
    return due


def _labelled_rows(report, labels: dict) -> list:
    rows = []
    for row in service.budget_rows(report):
        rows.append(SimpleNamespace(**{**vars(row), "label": labels.get(str(row.position), row.label)}))
    return rows


def _page_context(request, report, *, report_form=None, expenditure_form=None, problems=None):
    award = report.award
    language = translation.get_language()
    categories = category_labels(award, language)
    labels = dict(categories)
    rows = _labelled_rows(report, labels)
    metric_definitions = report_metrics(award.application.call, language)
    currency = award.fund.currency
    explain = [(row.position, row.label) for row in rows if row.needs_explanation]
    explained = {str(k) for k, v in (report.variance_explanations or {}).items() if v}
    explain += [
        (row.position, row.label)
        for row in rows
        if not row.needs_explanation and str(row.position) in explained
    ]
    if report_form is None:
        initial = {"period_start": report.period_start, "period_end": report.period_end,
                   "narrative": report.narrative}  # fmt: skip
        for key, value in (report.metrics or {}).items():
            initial[f"metric_{key}"] = value
        for position, value in (report.variance_explanations or {}).items():
            initial[f"explanation_{position}"] = value
        report_form = ReportForm(initial=initial, metric_definitions=metric_definitions, explain=explain)
    if expenditure_form is None:
        expenditure_form = ExpenditureForm(categories=categories, currency=currency, prefix="new")
    expenditures = list(report.expenditures.all())
    for expenditure in expenditures:
        expenditure.category_label = labels.get(expenditure.category, choice_label([], expenditure.category))
    explanations = report.variance_explanations or {}
    for row in rows:
        row.explanation = explanations.get(str(row.position), "")
        row.explanation_field = (
            report_form[f"explanation_{row.position}"]
            if f"explanation_{row.position}" in report_form.fields
            else None
        )
    metrics = [
        {"label": m["label"], "value": display_value(m, (report.metrics or {}).get(m["key"], "")),
         "field": report_form[f"metric_{m['key']}"]}
        for m in metric_definitions
    ]  # fmt: skip
    vendor_payments = list(service.paid_to_vendors(award))
    return {
        "paid_to_vendors": vendor_payments,
        "paid_to_vendors_total": sum((v.amount for v in vendor_payments), Money(0, currency)),
        "report": report,
        "due": report.due,
        "award": award,
        "editable": report.is_editable,
        "expenditures": expenditures,
        "rows": rows,
        "metrics": metrics,
        "form": report_form,
        "explain": explain,  # (position, category) of the explanations asked for
        "expenditure_form": expenditure_form,
        "problems": problems or [],
    }


@never_cache
@login_required
def report_detail(request, due_id: int):
    """The report of one due date: a draft to fill in, or what was submitted (read only)."""
    due = _due_for_member_or_404(request.user, due_id)
    try:
        report = service.report_for(due, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("award_detail", pk=due.award_id)
    if request.method == "POST" and report.is_editable:
        return _report_post(request, report)
    return render(request, "reports/detail.html", _page_context(request, report))


def _report_post(request, report):
    award = report.award
    language = translation.get_language()
    metric_definitions = report_metrics(award.application.call, language)
    context = _page_context(request, report)
    # The categories themselves, not the fields' labels (which already say "Why … differs").
    form = ReportForm(request.POST, metric_definitions=metric_definitions, explain=context["explain"])
    remove_id = request.POST.get("remove")
    action = request.POST.get("action", "save")
    if not form.is_valid():
        messages.error(request, _("Check what you typed: some fields need a correction."))
        problems = _other_problems(report, form, metric_definitions, language) if action == "submit" else []
        return _render_again(
            request, report, form, problems=problems, submit_failed=action == "submit", status=400
        )
    explanations = {**(report.variance_explanations or {}), **form.explanations()}
    try:
        service.save_draft(
            report, by=request.user, period_start=form.cleaned_data["period_start"],
            period_end=form.cleaned_data["period_end"], narrative=form.cleaned_data["narrative"],
            metrics=form.metrics(), variance_explanations=explanations,
        )  # fmt: skip
    except DomainError as error:
        return _render_again(request, report, form, problems=[error.message], status=400)
    back = reverse("report_detail", kwargs={"due_id": report.due_id})
    if remove_id:
        valid_id = remove_id.isascii() and remove_id.isdigit() and len(remove_id) < 19
        expenditure = report.expenditures.filter(pk=remove_id).first() if valid_id else None
        if expenditure is None:
            raise Http404
        try:
            service.remove_expenditure(expenditure, by=request.user)
        except DomainError as error:
            return _render_again(request, report, form, problems=[error.message], status=400)
        messages.success(request, _("The expenditure was removed."))
        return redirect(back + "#expenditures")
    if action == "add":
        return _add_expenditure(request, report, form, back)
    if action == "submit":
        try:
            service.submit_report(report, by=request.user, metric_definitions=metric_definitions,
                                  category_labels=dict(category_labels(award, language)))  # fmt: skip
        except service.ReportInvalid as invalid:
            problems = []
            for field, field_messages in invalid.errors.items():
                for message in field_messages:
                    if field in form.fields:
                        form.add_error(field, message)
                    else:
                        problems.append(message)
            return _render_again(request, report, form, problems=problems, submit_failed=True, status=400)
        except DomainError as error:
            return _render_again(request, report, form, problems=[error.message], status=400)
        messages.success(request, _("Thank you. Your report was submitted; the foundation will read it."))
        return redirect(back)
    messages.success(request, _("Your draft was saved."))
    return redirect(back)


def _add_expenditure(request, report, form, back):
    award = report.award
    categories = category_labels(award, translation.get_language())
    expenditure_form = ExpenditureForm(
        request.POST, request.FILES, categories=categories, currency=award.fund.currency, prefix="new"
    )
    if expenditure_form.is_valid():
        data = expenditure_form.cleaned_data
        try:
            service.add_expenditure(
                report, by=request.user, date=data["date"], category=data["category"],
                description=data["description"], amount=expenditure_form.amount(), receipt=data["receipt"],
            )  # fmt: skip
        except DomainError as error:
            field = getattr(error, "field", None)
            expenditure_form.add_error(field if field in expenditure_form.fields else None, error.message)
        else:
            messages.success(request, _("The expenditure was added."))
            return redirect(back + "#expenditures")
    return _render_again(request, report, form, expenditure_form=expenditure_form, status=400)


def _other_problems(report, form, metric_definitions, language) -> list[str]:
    """On a submit whose typing was refused (a figure that is not a number), what else stops the
    report, so the grantee sees everything at once: the service's messages for what lies outside
    the form (expenditures) and for inputs left empty (they stay empty once corrected)."""
    invalid = service.validate_report(report, metric_definitions=metric_definitions,
                                      category_labels=dict(category_labels(report.award, language)))  # fmt: skip
    problems = []
    for field, field_messages in invalid.items():
        if field not in form.fields:
            problems += field_messages
        elif field not in form.errors and not str(form.data.get(field, "")).strip():
            for message in field_messages:
                form.add_error(field, message)
    return problems


def _render_again(
    request, report, form, *, expenditure_form=None, problems=None, submit_failed=False, status=400
):
    report.refresh_from_db()
    context = _page_context(request, report, report_form=form, expenditure_form=expenditure_form,
                            problems=problems)  # fmt: skip
    context["submit_failed"] = submit_failed
    return render(request, "reports/detail.html", context, status=status)


@never_cache
@login_required
def report_receipt(request, due_id: int, expenditure_id: int):
    """A receipt, for members of the organization and the staff of the award's foundation."""
    due = _due_queryset().filter(pk=due_id).first()
    if due is None:
        raise Http404
    award = due.award
    allowed = is_organization_member(request.user, award.application.organization_id) or can(
        request.user, Capability.VIEW_REPORTS, award.fund.foundation_id
    )
    expenditure = Expenditure.objects.filter(pk=expenditure_id, report__due=due).first()
    if not allowed or expenditure is None or not expenditure.receipt:
        raise Http404
    if not is_organization_member(request.user, award.application.organization_id):  # staff: logged
        record_access(request, "receipt", expenditure, award.fund.foundation_id)
    return private_file_response(
        expenditure.receipt,
        filename=expenditure.receipt_name or "receipt",
        content_type=expenditure.receipt_content_type or "application/octet-stream",
    )


# --- Returning unspent money ----------------------------------------------------------------


def _award_for_member_or_404(user, pk: int) -> Award:
    award = (
        Award.objects.select_related("application__organization", "fund__foundation").filter(pk=pk).first()
    )
    if award is None or not is_organization_member(user, award.application.organization_id):
        raise Http404
    return award


@never_cache
@login_required
def award_return(request, pk: int):
    """Tell the foundation that unspent money is on its way back (finance confirms receipt)."""
    award = _award_for_member_or_404(request.user, pk)
    form = ReturnForm(request.POST or None, currency=award.fund.currency, prefix="return")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                service.announce_return(
                    award, by=request.user, amount=form.amount(), method=data["method"],
                    reference=data["reference"], note=data["note"],
                )  # fmt: skip
            except DomainError as error:
                field = getattr(error, "field", None)
                form.add_error(field if field in form.fields else None, error.message)
            else:
                messages.success(
                    request, _("Thank you. The foundation will confirm when it receives the money.")
                )
                return redirect(reverse("award_detail", kwargs={"pk": award.pk}) + "#money-heading")
        status = 400
    return render(request, "reports/return.html", {"award": award, "form": form}, status=status)


# --- Context for the award page and the dashboard ---------------------------------------------


def award_reports_context(award: Award) -> dict:
    """The award page's "Reports" section: each due date with its state, and the money."""
    return {
        "report_rows": [
            row
            for row in service.reports_due_for([award.application.organization_id])
            if row.due.award_id == award.pk
        ],  # fmt: skip
        "award_money": service.award_money(award),
        "grant_returns": list(award.returns.all()),
        "return_form": ReturnForm(currency=award.fund.currency, prefix="return"),
    }


def dashboard_reports(organization_ids, awards) -> dict:
    """The dashboard's "Reports due" section. ``awards``: every award of the organizations; only
    accepted or active ones have reports due, so without one there is nothing to read."""
    if not any(award.status in service.REPORTING_AWARD_STATES for award in awards):
        return {"reports_due": []}
    return {"reports_due": service.reports_due_for(list(organization_ids))}
