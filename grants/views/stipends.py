"""Coordinators' stipend pages: their programs, volunteers (by nickname) and shifts.

Only members of an organization that coordinates a program see its pages for that
organization; anyone else gets 404. The rules are in ``grants.services.stipends``.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from grants.forms.stipends import ShiftForm, ShiftImportForm, VolunteerForm
from grants.models import Organization, Shift, StipendBatch, StipendProgram, Volunteer
from grants.money import zero
from grants.services import stipends as service
from grants.services import volunteer_payouts
from grants.services.errors import DomainError
from grants.services.schedules import add_months


def get_coordination_or_404(user, program_id: int, organization_id: int):
    """The program and organization when ``user`` coordinates it, else 404."""
    program = StipendProgram.objects.select_related("fund__foundation").filter(pk=program_id).first()
    organization = Organization.objects.filter(pk=organization_id).first()
    if program is None or organization is None or not service.is_coordinator(user, program, organization):
        raise Http404
    return program, organization


def _kwargs(program, organization) -> dict:
    return {"program_id": program.pk, "organization_id": organization.pk}


def _base_context(program, organization) -> dict:
    return {"program": program, "organization": organization, "ids": _kwargs(program, organization)}


@never_cache
@login_required
def stipends_index(request):
    return render(
        request, "stipends/index.html", {"coordinations": service.coordinated_programs(request.user)}
    )


def _month_param(value: str | None, this_month: datetime.date) -> datetime.date:
    """The month asked for as YYYY-MM, never after this month; this month when absent or wrong."""
    try:
        month = datetime.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return this_month
    return min(month, this_month)


@never_cache
@login_required
def stipend_program(request, program_id: int, organization_id: int):
    program, organization = get_coordination_or_404(request.user, program_id, organization_id)
    this_month = service.first_of_month(timezone.localdate())
    month = _month_param(request.GET.get("month"), this_month)
    shifts = list(service.month_shifts(program, organization, month).order_by("date", "pk"))
    lines = service.figures_for(program, shifts)
    currency = str(program.rate.currency)
    context = _base_context(program, organization)
    context.update(
        month=month,
        previous_month=add_months(month, -1),
        next_month=add_months(month, 1) if month < this_month else None,
        shifts=shifts,
        lines=lines,
        month_total=sum((line.amount for line in lines), zero(currency)),
        month_locked=month in service.computed_months(program, organization),
        batches=StipendBatch.objects.filter(program=program, organization=organization).exclude(
            status="cancelled"
        ),
        volunteer_count=Volunteer.objects.filter(
            program=program, organization=organization, active=True
        ).count(),
    )
    return render(request, "stipends/program.html", context)


@never_cache
@login_required
def stipend_volunteers(request, program_id: int, organization_id: int):
    program, organization = get_coordination_or_404(request.user, program_id, organization_id)
    form, status = VolunteerForm(), 200
    if request.method == "POST":
        form = VolunteerForm(request.POST)
        if form.is_valid():
            try:
                volunteer = service.add_volunteer(
                    program=program, organization=organization, pseudonym=form.cleaned_data["pseudonym"],
                    by=request.user,
                )  # fmt: skip
            except DomainError as error:
                form.add_error("pseudonym", error.message)
            else:
                messages.success(request, _("“%(name)s” was added.") % {"name": volunteer.pseudonym})
                return redirect("stipend_volunteers", **_kwargs(program, organization))
        status = 400
    context = _base_context(program, organization)
    context.update(
        form=form,
        volunteers=Volunteer.objects.filter(program=program, organization=organization)
        .select_related("payee")
        .order_by("-active", "pseudonym"),
    )
    return render(request, "stipends/volunteers.html", context, status=status)


@never_cache
@login_required
@require_POST
def stipend_volunteer_payouts(request, program_id: int, organization_id: int, volunteer_id: int):
    """Start Stripe's onboarding for a volunteer's own account; the coordinator passes the link on."""
    program, organization = get_coordination_or_404(request.user, program_id, organization_id)
    volunteer = Volunteer.objects.filter(pk=volunteer_id, program=program, organization=organization).first()
    if volunteer is None:
        raise Http404
    back = request.build_absolute_uri(reverse("stipend_volunteers", kwargs=_kwargs(program, organization)))
    try:
        url = volunteer_payouts.start_volunteer_onboarding(volunteer, by=request.user, return_url=back)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("stipend_volunteers", **_kwargs(program, organization))
    return redirect(url)


@never_cache
@login_required
@require_POST
def stipend_volunteer_active(request, program_id: int, organization_id: int, volunteer_id: int):
    program, organization = get_coordination_or_404(request.user, program_id, organization_id)
    volunteer = Volunteer.objects.filter(pk=volunteer_id, program=program, organization=organization).first()
    if volunteer is None:
        raise Http404
    active = request.POST.get("active") == "1"
    service.set_volunteer_active(volunteer, active=active, by=request.user)
    if active:
        messages.success(request, _("“%(name)s” is active again.") % {"name": volunteer.pseudonym})
    else:
        messages.success(request, _("“%(name)s” was deactivated.") % {"name": volunteer.pseudonym})
    return redirect("stipend_volunteers", **_kwargs(program, organization))


@never_cache
@login_required
def stipend_shift_new(request, program_id: int, organization_id: int):
    program, organization = get_coordination_or_404(request.user, program_id, organization_id)
    form, status = ShiftForm(program=program, organization=organization), 200
    if request.method == "POST":
        form = ShiftForm(request.POST, program=program, organization=organization)
        if form.is_valid():
            data = form.cleaned_data
            try:
                service.log_shift(
                    volunteer=data["volunteer"], date=data["date"], hours=data["hours"], by=request.user
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The shift was logged."))
                target = reverse("stipend_program", kwargs=_kwargs(program, organization))
                return redirect(f"{target}?month={form.cleaned_data['date']:%Y-%m}")
        status = 400
    context = _base_context(program, organization)
    context["form"] = form
    return render(request, "stipends/shift_form.html", context, status=status)


@never_cache
@login_required
@require_POST
def stipend_shift_delete(request, program_id: int, organization_id: int, shift_id: int):
    program, organization = get_coordination_or_404(request.user, program_id, organization_id)
    shift = Shift.objects.filter(
        pk=shift_id, volunteer__program=program, volunteer__organization=organization
    ).first()
    if shift is None:
        raise Http404
    try:
        service.delete_shift(shift, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The shift was removed."))
    return redirect("stipend_program", **_kwargs(program, organization))


@never_cache
@login_required
def stipend_shift_import(request, program_id: int, organization_id: int):
    program, organization = get_coordination_or_404(request.user, program_id, organization_id)
    form, status, row_errors, problem = ShiftImportForm(), 200, [], ""
    if request.method == "POST":
        form = ShiftImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                shifts = service.import_shifts_csv(
                    program=program, organization=organization, data=form.cleaned_data["file"].read(),
                    by=request.user,
                )  # fmt: skip
            except service.ShiftImportError as error:
                problem, row_errors = error.message, error.row_errors
            except DomainError as error:
                problem = error.message
            else:
                messages.success(request, _("%(count)s shifts were imported.") % {"count": len(shifts)})
                return redirect("stipend_program", **_kwargs(program, organization))
        status = 400
    context = _base_context(program, organization)
    context.update(form=form, row_errors=row_errors, problem=problem)
    return render(request, "stipends/import.html", context, status=status)
