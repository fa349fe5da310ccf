"""One application as its applicant sees it: the detail page, kept versions, withdrawing, files."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cms.models import call_page_for
from grants.display import answer_rows, sections_for
from grants.models import ApplicationStatus
from grants.permissions import get_application_or_404
from grants.services import applications as service
from grants.services.access_log import record_access
from grants.services.errors import DomainError
from grants.services.text_limits import TextTooLong
from grants.views.applications.history import can_see_sensitive, timeline, versions_context
from grants.views.applications.information import (
    DECIDED,
    first_step_for,
    information_request_for,
    named_questions,
)
from grants.views.files import attachment_response


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
        except TextTooLong as error:  # shown beside what was typed, to shorten it
            context = {
                "application": application,
                "note": request.POST.get("note", ""),
                "error": error.message,
            }
            return render(request, "applications/withdraw.html", context, status=400)
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
