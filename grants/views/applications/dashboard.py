"""The grantee's dashboard: the organizations' applications, drafts, awards and open calls."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.cache import never_cache

from cms.models import call_titles, open_call_pages
from cms.page_cache import public_fragment
from grants.display import sections_for
from grants.models import (
    Application,
    ApplicationStatus,
    Award,
    InformationRequest,
    InstallmentStatus,
    IntakeChannel,
    OrganizationMembership,
)
from grants.money import zero
from grants.services import stipends as stipend_service
from grants.views import reports as report_views
from grants.views.applications.information import first_step_for


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
