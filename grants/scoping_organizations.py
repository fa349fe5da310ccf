"""Which applicant organizations a foundation's staff may pick.

An organization belongs to no foundation: it applies to whichever calls it likes. A
foundation's staff nevertheless pick organizations (phone intake, a stipend program's
coordinators), and offering every organization of the portal would tell one foundation who
works with another, and let it attach a draft to a group that never came to it. So a picker
offers only the organizations related to the staff's foundations, and the form refuses any
other id sent by hand.
"""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from grants.models import Application, ApplicationStatus, Award, IntakeChannel, Organization, StipendProgram


def organizations_related_to(foundation_ids: Iterable[int]) -> QuerySet[Organization]:
    """Organizations with a relationship to one of ``foundation_ids``.

    An organization is related to a foundation when it

    - applied to one of its calls (any application that is not a draft),
    - was entered by its staff through intake (a draft, or later, received by phone or in
      person on one of its calls: intake records the channel on the application it creates
      together with a new organization),
    - holds an award of one of its funds, or
    - coordinates one of its stipend programs.

    An organization's own online draft is not a relationship: nobody at the foundation has seen it.
    """
    ids = list(foundation_ids)
    applied = Application.objects.filter(call__fund__foundation__in=ids).filter(
        ~Q(status=ApplicationStatus.DRAFT) | ~Q(intake_channel=IntakeChannel.ONLINE)
    )
    awarded = Award.objects.filter(fund__foundation__in=ids)
    coordinating = StipendProgram.coordinators.through.objects.filter(
        stipendprogram__fund__foundation__in=ids
    )
    return Organization.objects.filter(
        Q(pk__in=applied.values("organization_id"))
        | Q(pk__in=awarded.values("application__organization_id"))
        | Q(pk__in=coordinating.values("organization_id"))
    )


def is_related(organization: Organization | int, foundation_id: int) -> bool:
    """Whether ``organization`` is related to the foundation ``foundation_id`` (see above)."""
    pk = organization if isinstance(organization, int) else organization.pk
    return organizations_related_to([foundation_id]).filter(pk=pk).exists()
