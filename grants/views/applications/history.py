"""What happened to an application, for the people allowed to see it: the timeline in sentences
and the kept versions of the answers compared.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grants.display import display_value
from grants.models import ActivityEntry, Application
from grants.plain_words import application_activity
from grants.questions import Question
from grants.services import reviews as review_service
from grants.views.applications.information import CORE_KEYS, _core_label


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
            text = application_activity(entry.action)  # never the code itself
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
            before = display_value(question, change["before"], {}, currency)
            after = display_value(question, change["after"], {}, currency)
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
