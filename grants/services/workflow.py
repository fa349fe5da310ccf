"""Declared state machines: one table of allowed transitions per stateful model.

A transition names the states it leaves from, the state it goes to, and which kinds of actor
may make it. ``transition()`` checks the table, saves the new state and writes an activity
entry; anything else raises ``IllegalTransition`` with a message for the person who tried.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from grants.models import ActivityEntry, ApplicationStatus
from grants.services.errors import IllegalTransition

APPLICANT = "applicant"
INTAKE_STAFF = "intake_staff"
OFFICER = "program_officer"
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    actors: tuple[str, ...]


S = ApplicationStatus
OPEN_STATES = (S.SUBMITTED, S.SCREENING, S.IN_REVIEW, S.MORE_INFO_REQUESTED, S.RESUBMITTED)

APPLICATION_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("submit", (S.DRAFT,), S.SUBMITTED, (APPLICANT, INTAKE_STAFF)),
        Transition("start_screening", (S.SUBMITTED,), S.SCREENING, (OFFICER,)),
        Transition("send_to_review", (S.SUBMITTED, S.SCREENING, S.RESUBMITTED), S.IN_REVIEW, (OFFICER,)),
        Transition(
            "request_more_info", (S.SCREENING, S.IN_REVIEW, S.RESUBMITTED), S.MORE_INFO_REQUESTED, (OFFICER,)
        ),
        Transition("resubmit", (S.MORE_INFO_REQUESTED,), S.RESUBMITTED, (APPLICANT, INTAKE_STAFF)),
        Transition("approve", (S.SCREENING, S.IN_REVIEW, S.RESUBMITTED), S.APPROVED, (OFFICER,)),
        Transition("decline", OPEN_STATES, S.DECLINED, (OFFICER,)),
        Transition("withdraw", (S.DRAFT, *OPEN_STATES), S.WITHDRAWN, (APPLICANT, INTAKE_STAFF)),
    )
}


def check_transition(table: dict, name: str, current: str, actor: str, states=None) -> Transition:
    """Return the transition or raise ``IllegalTransition`` explaining why it is not allowed.

    ``states`` is the choices class of the machine's states (applications by default).
    """
    transition = table[name]
    if current not in transition.sources:
        if states is None:
            raise IllegalTransition(
                _("This cannot be done while the application is “%(state)s”.") % {"state": S(current).label}
            )
        raise IllegalTransition(
            _("This cannot be done while it is “%(state)s”.") % {"state": states(current).label}
        )
    if actor not in transition.actors:
        raise IllegalTransition(_("You are not allowed to do this."))
    return transition


def record(*, subject, subject_type, action, actor, foundation, from_state="", to_state="", note="",
           visible_to_applicant=False) -> ActivityEntry:  # fmt: skip
    """Write one activity entry (append-only)."""
    return ActivityEntry.objects.create(
        foundation=foundation,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        subject_type=subject_type,
        subject_id=subject.pk,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        visible_to_applicant=visible_to_applicant,
    )
