"""The form in steps, the review page and submitting (or sending the answers asked for)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cms.models import call_page_for
from grants.display import answer_rows, attachments_by_question, display_value, sections_for
from grants.models import ApplicationStatus
from grants.permissions import get_application_or_404
from grants.services import answers as answer_forms
from grants.services import applications as service
from grants.services import reviews as review_service
from grants.services.errors import DomainError, UploadRejected
from grants.views.applications.information import editable_ids_for, information_request_for, named_questions


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
    attachments = attachments_by_question(application)
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
            field.display = display_value(
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
