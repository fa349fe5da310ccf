"""Applicant-facing views: eligibility, the form in steps, review and submit, files, dashboard.

Views only translate HTTP into service calls; the rules live in ``grants.services``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cms.models import call_page_for, call_titles, open_call_pages
from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    FundingCall,
    IntakeChannel,
    OrganizationMembership,
)
from grants.permissions import get_application_or_404
from grants.questions import Question, Section, split_sections
from grants.services import answers as answer_forms
from grants.services import applications as service
from grants.services.errors import DomainError, UploadRejected


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
    application, actor = get_application_or_404(request.user, pk, for_edit=True)
    if not application.is_editable:
        return redirect("application_detail", pk=application.pk)
    sections = sections_for(application)
    if not 1 <= number <= len(sections):
        raise Http404
    section = sections[number - 1]
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
        try:
            service.save_section(application, section=section, raw=raw, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("application_detail", pk=application.pk)
        upload_failed = False
        for question in section.questions:
            name = answer_forms.field_name(question)
            if question.type == "file" and name in request.FILES:
                try:
                    service.add_attachment(
                        application, question=question, upload=request.FILES[name], by=request.user
                    )
                except UploadRejected as error:
                    form.add_error(name, error.message)
                    upload_failed = True
        for attachment in application.attachments.all():
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
            messages.success(request, _("Draft saved. You can come back to it at any time."))
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
    context = {
        "application": application,
        "actor": actor,
        "form": form,
        "section": section,
        "sections": sections,
        "currency": currency,
        "call_page": call_page_for(application.call, translation.get_language()),
        "is_last": number == len(sections),
    }
    return render(request, "applications/section.html", context, status=status)


@login_required
@never_cache
def application_review(request, pk: int):
    application, actor = get_application_or_404(request.user, pk, for_edit=True)
    if not application.is_editable:
        return redirect("application_detail", pk=application.pk)
    sections = sections_for(application)
    invalid = service.validate_application(application, sections)
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
            "call_open": application.call.is_open(),
        },
    )


@login_required
@require_POST
def application_submit(request, pk: int):
    application, actor = get_application_or_404(request.user, pk, for_edit=False)
    if actor not in ("applicant", "intake_staff"):
        raise Http404
    try:
        service.submit_application(
            application, sections=sections_for(application), by=request.user, actor=actor
        )
    except DomainError as error:
        messages.error(request, error.message)
        if application.is_editable:
            return redirect("application_review", pk=pk)
        return redirect("application_detail", pk=pk)
    return redirect(f"{application_url(application)}?submitted=1")


def application_url(application) -> str:
    return reverse("application_detail", kwargs={"pk": application.pk})


@login_required
@never_cache
def application_detail(request, pk: int):
    application, actor = get_application_or_404(request.user, pk)
    sections = sections_for(application)
    activity = application_activity(application, actor)
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "actor": actor,
            "sections": sections,
            "answers": answer_rows(application, sections),
            "activity": activity,
            "just_submitted": request.GET.get("submitted") == "1"
            and application.status == ApplicationStatus.SUBMITTED,
            "call_page": call_page_for(application.call, translation.get_language()),
            "can_withdraw": actor in ("applicant", "intake_staff")
            and application.status
            not in (
                ApplicationStatus.WITHDRAWN,
                ApplicationStatus.APPROVED,
                ApplicationStatus.DECLINED,
            ),  # fmt: skip
        },
    )


def application_activity(application, actor):
    entries = ActivityEntry.objects.filter(subject_type="application", subject_id=application.pk)
    if actor == "applicant":
        entries = entries.filter(visible_to_applicant=True)
    return list(entries.select_related("actor")[:50])


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
    application, _actor = get_application_or_404(request.user, pk)
    attachment = get_object_or_404(application.attachments, pk=attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _display_value(question: Question, value, attachments) -> object:
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
        return [
            {**line, "category": answer_forms.choice_label(question.categories, line.get("category"))}
            for line in (value or [])
        ]
    return value


def answer_rows(application, sections):
    """Per section, each question with its answer ready to display (sensitive included: only
    members of the organization and staff of the foundation reach the pages that use this)."""
    attachments = _attachments_by_question(application)
    rows = []
    for section in sections:
        items = []
        for question in section.questions:
            store = application.sensitive_answers if question.sensitive else application.answers
            items.append(
                {"question": question, "value": _display_value(question, store.get(question.id), attachments)}
            )
        rows.append({"section": section, "items": items})
    return rows


@login_required
@never_cache
def dashboard(request):
    """The organization's applications with their status and next step, drafts, open calls."""
    memberships = list(
        OrganizationMembership.objects.filter(user=request.user).select_related("organization")
    )
    org_ids = [m.organization_id for m in memberships]
    applications = list(
        Application.objects.filter(organization_id__in=org_ids)
        .select_related("call__fund__foundation", "organization")
        .order_by("-updated_at")
    )
    language = translation.get_language()
    titles = call_titles(language, {a.call_id for a in applications})
    for application in applications:
        application.public_title = titles.get(application.call_id, application.call.title)
    return render(
        request,
        "applications/dashboard.html",
        {
            "memberships": memberships,
            "drafts": [a for a in applications if a.status == ApplicationStatus.DRAFT],
            "applications": [a for a in applications if a.status != ApplicationStatus.DRAFT],
            "open_calls": open_call_pages(language),
            "intake": IntakeChannel,
        },
    )
