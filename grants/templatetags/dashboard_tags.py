"""The grantee dashboard: what still needs the grantee (or is still moving) first, what is done after.

``{% with groups=awards|by_progress:"award" %}`` gives ``groups.current`` and ``groups.finished``
(each a list in the original order). The dashboard shows the current items and puts the finished
ones in a closed ``<details>`` with their count, so a long history does not push today's work
off the screen.
"""

from dataclasses import dataclass, field

from django import template

from grants.models import ApplicationStatus, AwardStatus

register = template.Library()

FINISHED_AWARD_STATES = {AwardStatus.COMPLETED, AwardStatus.CANCELLED}
# A report the grantee has handed in (or that was accepted) waits for nothing from them.
FINISHED_REPORT_STATES = {"submitted", "accepted"}
FINISHED_APPLICATION_STATES = {ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN}


@dataclass
class Progress:
    current: list = field(default_factory=list)
    finished: list = field(default_factory=list)


def _is_finished(kind: str, item) -> bool:
    if kind == "award":
        return item.status in FINISHED_AWARD_STATES
    if kind == "report":
        return item.state in FINISHED_REPORT_STATES
    if kind == "application":
        # An approved application lives on as its award (listed under "Your grants").
        approved_with_award = item.status == ApplicationStatus.APPROVED and getattr(
            item, "award_id_or_none", None
        )
        return item.status in FINISHED_APPLICATION_STATES or bool(approved_with_award)
    raise ValueError(f"unknown kind of dashboard item: {kind}")


@register.filter
def by_progress(items, kind: str) -> Progress:
    """Split ``items`` (awards, report rows or applications) into current and finished."""
    groups = Progress()
    for item in items or ():
        (groups.finished if _is_finished(kind, item) else groups.current).append(item)
    return groups
