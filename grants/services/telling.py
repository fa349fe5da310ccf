"""Who was told, and how: the sentence every staff message ends with after an action that
notifies a group (an award offered, a decision, a request for more information).

A group entered by phone or in person may have no login, so no email can reach it; the message
then says so and what to do instead, never "they were told by email". Emails go to the
organization's members (``grants.services.applications.notify_members``), so the members are
who was told.
"""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grants.models import Application, OrganizationMembership


def member_emails(organization_id: int) -> list[str]:
    """The addresses the organization's emails go to (its members'), in a stable order."""
    return list(
        OrganizationMembership.objects.filter(organization_id=organization_id)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def has_login(organization_id: int) -> bool:
    """Whether anybody can sign in for the organization (and so receive its emails)."""
    return OrganizationMembership.objects.filter(organization_id=organization_id).exists()


def emailed(emails: list[str]) -> str:
    """ "Email sent to ana@example.org." / "Emails sent to a@…, b@…." """
    return ngettext("Email sent to %(emails)s.", "Emails sent to %(emails)s.", len(emails)) % {
        "emails": ", ".join(emails)
    }


def nobody_emailed(next_step: str) -> str:
    """No member, no email: say so, then what the staff member does instead."""
    return _("Nobody was emailed: this group has no login.") + " " + next_step


def told(organization_id: int, *, next_step: str) -> str:
    """The closing sentence: who was emailed, or that nobody was and ``next_step``."""
    emails = member_emails(organization_id)
    return emailed(emails) if emails else nobody_emailed(next_step)


def tell_them_yourself() -> str:
    return _("Tell them by phone or in person.")


def record_their_answer() -> str:
    return _("Record their answer on the award when you have it.")


def decision_message(application: Application, decision: str) -> str:
    """After approving or declining one application."""
    done = _("Approved.") if decision == "approve" else _("Declined.")
    return done + " " + told(application.organization_id, next_step=tell_them_yourself())


def information_request_message(application: Application) -> str:
    """After asking for more information."""
    return (
        _("More information requested.")
        + " "
        + told(
            application.organization_id,
            next_step=_("Ask them by phone or in person, then enter their answers on the application."),
        )
    )


def batch_decision_message(decided: list[Application]) -> str:
    """After a batch decision: how many were decided, who was emailed, which groups were not.
    Empty when nothing was decided (the refusals then speak alone)."""
    if not decided:
        return ""
    ids = {application.organization_id for application in decided}
    with_login = set(
        OrganizationMembership.objects.filter(organization_id__in=ids).values_list(
            "organization_id", flat=True
        )
    )
    emailed_count = sum(1 for application in decided if application.organization_id in with_login)
    without = [
        application.reference for application in decided if application.organization_id not in with_login
    ]
    parts = [
        ngettext("%(count)d application decided.", "%(count)d applications decided.", len(decided))
        % {"count": len(decided)}
    ]
    if emailed_count:
        parts.append(
            ngettext(
                "%(count)d applicant was told by email.",
                "%(count)d applicants were told by email.",
                emailed_count,
            )
            % {"count": emailed_count}
        )
    if without:
        parts.append(
            ngettext(
                "Nobody was emailed for %(references)s: this group has no login. Tell them by phone or in person.",
                "Nobody was emailed for %(references)s: these groups have no login. Tell them by phone or in person.",
                len(without),
            )
            % {"references": ", ".join(without)}
        )
    return " ".join(parts)


def award_made_message(organization_id: int) -> str:
    """After an award is made: who was emailed, or that the group's answer is to be recorded."""
    emails = member_emails(organization_id)
    if emails:
        return _("Award made; the group can now accept it on the portal.") + " " + emailed(emails)
    return _("Award made.") + " " + nobody_emailed(record_their_answer())


def award_changed_message(organization_id: int, change: str) -> str:
    """After the amount changed or the award was cancelled (the group is notified)."""
    if change == "amend":
        done = _("The amount was changed.")
    else:
        done = _("The award was cancelled and its unpaid money went back to the fund.")
    return done + " " + told(organization_id, next_step=tell_them_yourself())


def group_answer_message(*, accepted: bool, group: str, how: str, name: str, date: str) -> str:
    """After staff recorded a group's answer: what was recorded; nobody was emailed."""
    facts = {"group": group, "how": how, "name": name, "date": date}
    if accepted:
        done = _(
            "Recorded: %(group)s accepted the award (%(how)s, given by %(name)s on %(date)s). "
            "Payments can now be released."
        )
    else:
        done = _(
            "Recorded: %(group)s declined the award (%(how)s, given by %(name)s on %(date)s). "
            "Its unpaid money went back to the fund."
        )
    return done % facts + " " + _("Nobody was emailed: this group has no login.")
