"""Applicant-facing views: eligibility, the form in steps, review and submit, files, dashboard,
answers asked for by the foundation (more information), versions, decision and timeline.

Views only translate HTTP into service calls; the rules live in ``grants.services``.
"""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from djmoney.money import Money

from cms.models import call_page_for, call_titles, open_call_pages
from cms.page_cache import public_fragment
from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    Award,
    FundingCall,
    InformationRequest,
    InstallmentStatus,
    IntakeChannel,
    OrganizationMembership,
)
from grants.money import zero
from grants.permissions import get_application_or_404
from grants.questions import Question, Section, split_sections
from grants.services import answers as answer_forms
from grants.services import applications as service
from grants.services import reviews as review_service
from grants.services import stipends as stipend_service
from grants.services.access_log import record_access
from grants.services.errors import DomainError, UploadRejected
from grants.views import reports as report_views
from grants.views.files import private_file_response


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


def _attachments_by_question(application):
    grouped = {}
    for attachment in application.attachments.all():
        grouped.setdefault(attachment.question_id, []).append(attachment)
    return grouped


# --- More information, sensitive answers, timeline, versions ---------------------------------

CORE_KEYS = (answer_forms.TITLE_KEY, answer_forms.AMOUNT_KEY)
DECIDED = (ApplicationStatus.APPROVED, ApplicationStatus.DECLINED)


def _core_label(key: str) -> str:
    if key == answer_forms.TITLE_KEY:
        return _("Name of your project or request")
    return _("Amount requested")


def information_request_for(application: Application) -> InformationRequest | None:
    """The officer's open request while the application waits for more information."""
    if application.status != ApplicationStatus.MORE_INFO_REQUESTED:
        return None
    return review_service.open_information_request(application)


def editable_ids_for(application: Application, info_request: InformationRequest | None) -> set[str] | None:
    """Keys the applicant may change: ``None`` means every answer (a draft); while more
    information is requested, only the answers the officer named."""
    if application.status == ApplicationStatus.MORE_INFO_REQUESTED:
        return set(info_request.question_ids or []) if info_request is not None else set()
    return None


def named_questions(sections: list[Section], ids) -> list[dict]:
    """The answers named by an information request, in form order: label and step number."""
    ids = set(ids or [])
    named = [{"label": _core_label(key), "number": 1} for key in CORE_KEYS if key in ids]
    for section in sections:
        for question in section.questions:
            if question.id in ids:
                named.append({"label": question.label, "number": section.number})
    return named


def first_step_for(sections: list[Section], ids) -> int:
    steps = [item["number"] for item in named_questions(sections, ids)]
    return min(steps) if steps else 1


def can_see_sensitive(user, application: Application, actor: str | None) -> bool:
    """Answers marked sensitive: members of the organization and the foundation's officers."""
    if actor in ("applicant", "intake_staff"):
        return True
    return actor == "staff" and review_service.is_officer(user, application)


TIMELINE_SENTENCES = {
    "submitted": gettext_lazy("The application was submitted."),
    "request_more_info": gettext_lazy("The foundation asked for more information."),
    "resubmit": gettext_lazy("The answers asked for were sent to the foundation."),
    "approve": gettext_lazy("The foundation approved the application."),
    "decline": gettext_lazy("The foundation declined the application."),
    "withdrawn": gettext_lazy("The application was withdrawn."),
}
# Entries only staff see (the applicant's timeline shows ``visible_to_applicant`` rows only).
STAFF_TIMELINE_SENTENCES = {
    "started": gettext_lazy("Draft started."),
    "started_by_staff": gettext_lazy("Draft started by staff."),
    "start_screening": gettext_lazy("Screening started."),
    "send_to_review": gettext_lazy("Sent to review."),
    "reviewer_assigned": gettext_lazy("A reviewer was assigned."),
    "conflict_declared": gettext_lazy("A reviewer declared a conflict of interest."),
    "no_conflict_declared": gettext_lazy("A reviewer declared no conflict of interest."),
    "review_submitted": gettext_lazy("A review was submitted."),
    "email_sent": gettext_lazy("An email was sent to the applicant."),
}
# Actions whose note is written for the applicant (shown to them when the entry is visible).
APPLICANT_NOTES = ("request_more_info", "comment", "withdrawn")
STAFF_NOTES = (*APPLICANT_NOTES, "decline", "approve", "conflict_declared")


def timeline(application: Application, actor: str | None) -> list[dict]:
    """Activity as sentences in the reader's language.

    Applicants see only entries marked visible to them, never who on the staff made them and
    never internal comments; staff of the foundation see every entry with its author.
    """
    entries = ActivityEntry.objects.filter(subject_type="application", subject_id=application.pk)
    for_applicant = actor == "applicant"
    if for_applicant:
        entries = entries.filter(visible_to_applicant=True)
    rows = []
    for entry in entries.select_related("actor")[:100]:
        if entry.action == "comment":
            text = _("Message from the foundation") if entry.visible_to_applicant else _("Internal comment")
        elif entry.action in TIMELINE_SENTENCES:
            text = str(TIMELINE_SENTENCES[entry.action])
        elif for_applicant:
            continue  # an unknown kind of entry is never shown to the applicant as a raw code
        elif entry.action in STAFF_TIMELINE_SENTENCES:
            text = str(STAFF_TIMELINE_SENTENCES[entry.action])
        else:
            text = entry.action
        show_note = entry.action in (APPLICANT_NOTES if for_applicant else STAFF_NOTES)
        author = ""
        if not for_applicant and entry.actor is not None:
            author = entry.actor.get_full_name() or entry.actor.email
        rows.append({"at": entry.created_at, "text": text, "note": entry.note if show_note else "",
                     "author": author, "internal": not entry.visible_to_applicant})  # fmt: skip
    return rows


def _snapshot_questions(application: Application) -> dict[str, Question]:
    return {
        q["id"]: Question.from_dict(q)
        for section in application.question_snapshot
        for q in section["questions"]
    }


def version_changes(application: Application, older, newer, *, show_sensitive: bool) -> list[dict]:
    """``compare_versions`` with each key turned into the question's label (from the snapshot)
    and values ready to read. Sensitive answers are replaced by a notice unless allowed."""
    questions = _snapshot_questions(application)
    rows = []
    for change in review_service.compare_versions(older, newer):
        key = change["key"]
        question = questions.get(key)
        sensitive = (
            key in older.sensitive_answers
            or key in newer.sensitive_answers
            or (question is not None and question.sensitive)
        )
        if key in CORE_KEYS:
            label, kind = _core_label(key), "text"
            before, after = change["before"], change["after"]
        elif question is not None:
            label, kind = question.label, question.type
            currency = application.call.fund.currency
            before = _display_value(question, change["before"], {}, currency)
            after = _display_value(question, change["after"], {}, currency)
        else:
            label, kind = key, "text"
            before, after = change["before"], change["after"]
        hidden = sensitive and not show_sensitive
        rows.append({"key": key, "label": label, "kind": kind, "sensitive": sensitive, "hidden": hidden,
                     "before": None if hidden else before, "after": None if hidden else after})  # fmt: skip
    return rows


def versions_context(application: Application, user, actor, number: int | None = None) -> dict:
    """Kept versions and the comparison of version ``number`` (default: the latest) with the one
    before it."""
    versions = list(application.versions.all())
    chosen = next((v for v in versions if v.number == number), versions[-1] if versions else None)
    previous = None
    if chosen is not None:
        previous = next((v for v in reversed(versions) if v.number < chosen.number), None)
    changes = []
    if chosen is not None and previous is not None:
        changes = version_changes(
            application, previous, chosen, show_sensitive=can_see_sensitive(user, application, actor)
        )
    return {"versions": versions, "version": chosen, "previous_version": previous, "changes": changes}


@login_required
@never_cache
def apply_start(request, call_id: int):
    """Eligibility screening, then choosing the organization, then a draft is created."""
    call = get_object_or_404(FundingCall.objects.select_related("fund__foundation"), pk=call_id)
    page = call_page_for(call, translation.get_language())
    if page is None:
        raise Http404
    eligibility = page.get_eligibility_questions()
    memberships = list(
        OrganizationMembership.objects.filter(user=request.user).select_related("organization")
    )
    context = {"call": call, "page": None, "call_page": page, "eligibility": eligibility,
               "memberships": memberships, "answers": {}, "errors": []}  # fmt: skip
    if not call.is_open():
        context["errors"] = [_("This call is not open for applications.")]
        return render(request, "applications/apply_start.html", context, status=409)
    if request.method == "POST":
        given = {q.id: request.POST.get(f"eligibility_{q.id}", "") for q in eligibility}
        context["answers"] = given
        try:
            reasons = service.check_eligibility(eligibility, given)
        except DomainError as error:
            context["errors"] = [error.message]
            return render(request, "applications/apply_start.html", context, status=400)
        if reasons:
            return render(request, "applications/not_eligible.html", {**context, "reasons": reasons})
        organization_ids = {m.organization_id: m.organization for m in memberships}
        try:
            chosen = int(request.POST.get("organization", "0"))
        except ValueError:
            chosen = 0
        if chosen not in organization_ids:
            context["errors"] = [_("Choose the organization you apply for.")]
            return render(request, "applications/apply_start.html", context, status=400)
        try:
            application = service.start_application(
                call=call,
                organization=organization_ids[chosen],
                by=request.user,
                language=translation.get_language(),
            )
        except DomainError as error:
            context["errors"] = [error.message]
            return render(request, "applications/apply_start.html", context, status=409)
        return redirect("application_section", pk=application.pk, number=1)
    return render(request, "applications/apply_start.html", context)


@login_required
@never_cache
def application_section(request, pk: int, number: int):
    """One step of the form. While more information is requested, only the answers the
    officer named can be changed; the others are shown read-only."""
    application, actor = get_application_or_404(request.user, pk, for_edit=True)
    if not application.is_editable:
        return redirect("application_detail", pk=application.pk)
    sections = sections_for(application)
    if not 1 <= number <= len(sections):
        raise Http404
    section = sections[number - 1]
    info_request = information_request_for(application)
    editable = editable_ids_for(application, info_request)
    currency = application.call.fund.currency
    amount_range = service.amount_range(application.call)
    status = 200
    if request.method == "POST":
        form = answer_forms.SectionForm(
            request.POST,
            request.FILES,
            section=section,
            currency=currency,
            draft=True,
            amount_range=amount_range,
        )
        raw = answer_forms.raw_values(form, request.POST, request.FILES)
        if editable is not None:
            raw = {key: value for key, value in raw.items() if key in editable}
        try:
            service.save_section(
                application, section=section, raw=raw, by=request.user, editable_ids=editable
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("application_detail", pk=application.pk)
        upload_failed = False
        for question in section.questions:
            name = answer_forms.field_name(question)
            if editable is not None and question.id not in editable:
                continue
            if question.type == "file" and name in request.FILES:
                try:
                    service.add_attachment(
                        application, question=question, upload=request.FILES[name], by=request.user
                    )
                except UploadRejected as error:
                    form.add_error(name, error.message)
                    upload_failed = True
        for attachment in application.attachments.all():
            if editable is not None and attachment.question_id not in editable:
                continue
            if f"remove_{attachment.pk}" in request.POST:
                service.remove_attachment(attachment, by=request.user)
        if request.POST.get("autosave"):
            return JsonResponse({"saved": True, "at": timezone.now().isoformat()})
        if upload_failed:
            status = 400
            messages.error(
                request, _("Your answers were saved, but a file was refused. See the message below.")
            )
        else:
            action = request.POST.get("action", "save")
            if action == "next":
                if number < len(sections):
                    return redirect("application_section", pk=pk, number=number + 1)
                return redirect("application_review", pk=pk)
            if action == "previous" and number > 1:
                return redirect("application_section", pk=pk, number=number - 1)
            if action == "review":
                return redirect("application_review", pk=pk)
            if editable is None:
                messages.success(request, _("Draft saved. You can come back to it at any time."))
            else:
                messages.success(request, _("Saved. Send the answers to the foundation from the last step."))
            return redirect("application_section", pk=pk, number=number)
    else:
        show_errors = request.GET.get("check") == "1"
        form = answer_forms.bind_section(
            section,
            answers=application.answers,
            sensitive=application.sensitive_answers,
            currency=currency,
            draft=not show_errors,
            amount_range=amount_range,
        )
        if show_errors:
            invalid = service.validate_application(application, sections)
            form = invalid.get(number, form)
        else:
            form.is_valid()
    attachments = _attachments_by_question(application)
    for question in section.questions:
        if question.type == "file":
            form.fields[answer_forms.field_name(question)].files = attachments.get(question.id, [])
    editable_here = _mark_read_only(form, application, section, editable, attachments)
    context = {
        "application": application,
        "actor": actor,
        "form": form,
        "section": section,
        "sections": sections,
        "currency": currency,
        "call_page": call_page_for(application.call, translation.get_language()),
        "is_last": number == len(sections),
        "info_request": info_request,
        "named": named_questions(sections, info_request.question_ids) if info_request else [],
        "restricted": editable is not None,
        "editable_here": editable_here,
    }
    return render(request, "applications/section.html", context, status=status)


def _mark_read_only(form, application, section, editable, attachments) -> bool:
    """Mark the fields the applicant may not change (``field.read_only``) with the stored answer
    to show instead (``field.display``). Returns whether any field of the step stays editable."""
    if editable is None:
        return True
    any_editable = False
    for name, field in form.fields.items():
        key = name[2:] if name.startswith("q_") else name
        field.read_only = key not in editable
        any_editable = any_editable or not field.read_only
        if not field.read_only:
            continue
        question = getattr(field, "question", None)
        if key == answer_forms.TITLE_KEY:
            field.display, field.display_type = application.title, "text"
        elif key == answer_forms.AMOUNT_KEY:
            field.display, field.display_type = application.requested_amount, "money"
        elif question is not None:
            store = application.sensitive_answers if question.sensitive else application.answers
            field.display = _display_value(
                question, store.get(question.id), attachments, application.call.fund.currency
            )
            field.display_type = question.type
    return any_editable


@login_required
@never_cache
def application_review(request, pk: int):
    application, actor = get_application_or_404(request.user, pk, for_edit=True)
    if not application.is_editable:
        return redirect("application_detail", pk=application.pk)
    sections = sections_for(application)
    invalid = service.validate_application(application, sections)
    info_request = information_request_for(application)
    resubmitting = application.status == ApplicationStatus.MORE_INFO_REQUESTED
    return render(
        request,
        "applications/review.html",
        {
            "application": application,
            "actor": actor,
            "sections": sections,
            "invalid": invalid,
            "answers": answer_rows(application, sections),
            "call_page": call_page_for(application.call, translation.get_language()),
            # A resubmission answers the foundation's request: the call's close date does not apply.
            "call_open": resubmitting or application.call.is_open(),
            "resubmitting": resubmitting,
            "info_request": info_request,
            "named": named_questions(sections, info_request.question_ids) if info_request else [],
        },
    )


RESUBMISSION_STATES = (ApplicationStatus.MORE_INFO_REQUESTED, ApplicationStatus.RESUBMITTED)


@login_required
@require_POST
def application_submit(request, pk: int):
    """Submit a draft, or send the answers the foundation asked for (resubmit). Both services are
    idempotent, so a double click makes one submission."""
    application, actor = get_application_or_404(request.user, pk, for_edit=False)
    if actor not in ("applicant", "intake_staff"):
        raise Http404
    resubmitting = application.status in RESUBMISSION_STATES
    submit = review_service.resubmit_application if resubmitting else service.submit_application
    try:
        submit(application, sections=sections_for(application), by=request.user, actor=actor)
    except DomainError as error:
        messages.error(request, error.message)
        if application.is_editable:
            return redirect("application_review", pk=pk)
        return redirect("application_detail", pk=pk)
    return redirect(f"{application_url(application)}?{'resubmitted' if resubmitting else 'submitted'}=1")


def application_url(application) -> str:
    return reverse("application_detail", kwargs={"pk": application.pk})


@login_required
@never_cache
def application_detail(request, pk: int):
    application, actor = get_application_or_404(request.user, pk)
    sections = sections_for(application)
    info_request = information_request_for(application)
    status = application.status
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "actor": actor,
            "sections": sections,
            "answers": answer_rows(
                application, sections, hide_sensitive=not can_see_sensitive(request.user, application, actor)
            ),
            "activity": timeline(application, actor),
            "just_submitted": request.GET.get("submitted") == "1" and status == ApplicationStatus.SUBMITTED,
            "just_resubmitted": request.GET.get("resubmitted") == "1"
            and status == ApplicationStatus.RESUBMITTED,
            "call_page": call_page_for(application.call, translation.get_language()),
            "can_withdraw": actor in ("applicant", "intake_staff")
            and status not in (ApplicationStatus.WITHDRAWN, *DECIDED),
            "info_request": info_request,
            "named": named_questions(sections, info_request.question_ids) if info_request else [],
            "info_step": first_step_for(sections, info_request.question_ids) if info_request else 1,
            **versions_context(application, request.user, actor),
        },
    )


@login_required
@never_cache
def application_versions(request, pk: int):
    """Every kept version of the answers, and what changed in a version against the one before."""
    application, actor = get_application_or_404(request.user, pk)
    try:
        number = int(request.GET.get("version", ""))
    except ValueError:
        number = None
    context = versions_context(application, request.user, actor, number)
    if number is not None and (context["version"] is None or context["version"].number != number):
        raise Http404
    return render(
        request,
        "applications/versions.html",
        {
            "application": application,
            "actor": actor,
            "call_page": call_page_for(application.call, translation.get_language()),
            **context,
        },
    )


@login_required
@never_cache
def application_withdraw(request, pk: int):
    application, actor = get_application_or_404(request.user, pk, for_edit=True)
    if request.method == "POST":
        try:
            service.withdraw_application(
                application, by=request.user, actor=actor, note=request.POST.get("note", "")
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("application_detail", pk=pk)
        messages.success(request, _("The application was withdrawn."))
        return redirect("dashboard")
    return render(request, "applications/withdraw.html", {"application": application})


@login_required
def attachment_download(request, pk: int, attachment_id: int):
    """Serve a private upload after the permission check. Never cached by browsers or proxies."""
    application, actor = get_application_or_404(request.user, pk)
    attachment = get_object_or_404(application.attachments, pk=attachment_id)
    if actor != "applicant":  # staff opening an applicant's file is logged
        record_access(request, "attachment", attachment, application.call.fund.foundation_id)
    return attachment_response(attachment)


def attachment_response(attachment):
    """An applicant's upload as a private download."""
    return private_file_response(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )


class BudgetLines(list):
    """Budget lines ready to display, with amounts as ``Money`` and their ``total``."""

    total = None


def _budget_display(question: Question, lines, currency: str) -> BudgetLines:
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


def _display_value(question: Question, value, attachments, currency: str = "USD") -> object:
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
        return _budget_display(question, value, currency)
    if question.type == "number":
        return answer_forms.display_number(question, value)
    if question.type == "money":
        return answer_forms.display_money(value, currency)
    return value


def answer_rows(application, sections, *, hide_sensitive: bool = False):
    """Per section, each question with its answer ready to display (sensitive included: only
    members of the organization and staff of the foundation reach the pages that use this;
    ``hide_sensitive`` leaves those answers out for staff who are not officers)."""
    attachments = _attachments_by_question(application)
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
                    "value": _display_value(
                        question, store.get(question.id), attachments, application.call.fund.currency
                    ),
                }
            )
        rows.append({"section": section, "items": items})
    return rows


def grantee_awards(org_ids) -> list[Award]:
    """Awards of the organizations, each with ``paid_total`` and ``next_installment`` (2 queries)."""
    awards = list(
        Award.objects.filter(application__organization_id__in=org_ids)
        .select_related("application__organization", "fund__foundation")
        .prefetch_related("installments")
        .order_by("-offered_at")
    )
    for award in awards:
        installments = list(award.installments.all())
        award.paid_total = sum(
            (i.amount for i in installments if i.status == InstallmentStatus.PAID), zero(award.fund.currency)
        )
        award.next_installment = next((i for i in installments if i.is_unpaid), None)
    return awards


DASHBOARD_PER_PAGE = 20
# The columns the dashboard shows (and what it needs to show them); never the answers.
DASHBOARD_FIELDS = (
    "id", "call_id", "organization_id", "reference", "status", "title", "updated_at", "submitted_at",
    "requested_currency", "requested_amount", "award_currency", "award_amount", "decision_reason",
    "call__id", "call__title", "call__opens_at", "call__closes_at", "call__time_zone",
    "organization__id", "organization__name",
)  # fmt: skip


@login_required
@never_cache
def dashboard(request):
    """The organization's applications with their status and next step, drafts, open calls."""
    memberships = list(
        OrganizationMembership.objects.filter(user=request.user).select_related("organization")
    )
    org_ids = [m.organization_id for m in memberships]
    mine = (
        Application.objects.filter(organization_id__in=org_ids)
        .select_related("call", "organization")
        .only(*DASHBOARD_FIELDS)  # what the page shows: lists stay light however long the answers
        .order_by("-updated_at", "-pk")
    )
    drafts = list(mine.filter(status=ApplicationStatus.DRAFT))
    # Submitted applications, DASHBOARD_PER_PAGE at a time (an organization may have hundreds).
    page = Paginator(mine.exclude(status=ApplicationStatus.DRAFT), DASHBOARD_PER_PAGE).get_page(
        request.GET.get("page")
    )
    applications = drafts + list(page.object_list)
    language = translation.get_language()
    titles = call_titles(language, {a.call_id for a in applications})
    waiting = [a.pk for a in applications if a.status == ApplicationStatus.MORE_INFO_REQUESTED]
    requests = {}
    if waiting:  # one query for every application waiting for answers
        for info_request in InformationRequest.objects.filter(
            application_id__in=waiting, answered_at__isnull=True
        ).order_by("created_at"):
            requests[info_request.application_id] = info_request  # the latest open one wins
    # The questions they were asked, to link to the first step with one (one query).
    snapshots = (
        dict(Application.objects.filter(pk__in=list(requests)).values_list("pk", "question_snapshot"))
        if requests
        else {}
    )
    awards = grantee_awards(org_ids)  # every award of the organizations (one per application)
    award_ids = {award.application_id: award.pk for award in awards}
    for application in applications:
        application.award_id_or_none = award_ids.get(application.pk)
        application.public_title = titles.get(application.call_id, application.call.title)
        application.info_request = requests.get(application.pk)
        if application.info_request is not None:
            application.question_snapshot = snapshots.get(application.pk) or []
            application.info_step = first_step_for(
                sections_for(application), application.info_request.question_ids
            )
    return render(
        request,
        "applications/dashboard.html",
        {
            "awards": awards,
            "coordinates_stipends": stipend_service.coordinates_any_program(request.user),
            "memberships": memberships,
            "drafts": drafts,
            "applications": list(page.object_list),
            "page": page,
            "open_calls": public_fragment(
                request,
                "open-calls",
                lambda: render_to_string(
                    "applications/_open_calls.html", {"open_calls": open_call_pages(language)}, request
                ),
            ),
            "intake": IntakeChannel,
            **report_views.dashboard_reports(org_ids, awards),
        },
    )
