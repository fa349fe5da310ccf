"""Review and decisions: screening, reviewer assignments, conflicts, scores, more information,
resubmission, approval and decline (one by one or in batch), comments.

Officers are program officers and foundation admins of the call's foundation. Each function
checks role and state through the declared transition table, changes the rows under a lock,
writes the activity entry and sends emails after commit.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    Application,
    ApplicationStatus,
    ApplicationVersion,
    InformationRequest,
    Recommendation,
    Review,
    ReviewAssignment,
    StaffMembership,
    User,
)
from grants.permissions import Capability, can, roles_with
from grants.questions import Section
from grants.services.applications import notify_members, snapshot_version, validate_application
from grants.services.errors import ApplicationError, DomainError, IllegalTransition
from grants.services.notifications import send_templated_email
from grants.services.text_limits import within_limit
from grants.services.workflow import APPLICATION_TRANSITIONS, OFFICER, check_transition, record


class ReviewError(DomainError):
    """A review action was refused (not assigned, conflict not declared, incomplete scores...)."""


def is_officer(user, application: Application) -> bool:
    return can(user, Capability.DECIDE_APPLICATIONS, application.call.fund.foundation_id)


def _officer(by, application: Application) -> str:
    if not is_officer(by, application):
        raise IllegalTransition(_("You are not allowed to do this."))
    return OFFICER


def _locked(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("call__fund__foundation")
        .get(pk=application.pk)
    )


def _transition(application, name: str, *, by, actor: str, note: str = "", visible: bool = False, fields=()):
    """Apply transition ``name`` to a locked application and record it."""
    previous = application.status
    transition = check_transition(APPLICATION_TRANSITIONS, name, previous, actor)
    application.status = transition.target
    application.save(update_fields=["status", "updated_at", *fields])
    record(
        subject=application,
        subject_type="application",
        action=name,
        actor=by,
        foundation=application.call.fund.foundation,
        from_state=previous,
        to_state=transition.target,
        note=note,
        visible_to_applicant=visible,
    )
    return application


def _has_declared_conflict(user, application) -> bool:
    return ReviewAssignment.objects.filter(
        application=application, reviewer=user, status=ReviewAssignment.Status.CONFLICT
    ).exists()


# --- Screening and review ---------------------------------------------------------------------


def start_screening(application: Application, *, by, note: str = "") -> Application:
    """Submitted → screening: an officer checks the application is complete and in scope."""
    with transaction.atomic():
        locked = _locked(application)
        _transition(locked, "start_screening", by=by, actor=_officer(by, locked), note=note)
    application.refresh_from_db()
    return application


def send_to_review(application: Application, *, by, note: str = "") -> Application:
    """Screening (or resubmitted) → in review."""
    with transaction.atomic():
        locked = _locked(application)
        _transition(locked, "send_to_review", by=by, actor=_officer(by, locked), note=note)
    application.refresh_from_db()
    return application


ASSIGNABLE_STATES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.SCREENING,
    ApplicationStatus.IN_REVIEW,
    ApplicationStatus.RESUBMITTED,
)


def eligible_reviewers(application: Application):
    """Staff of the application's foundation who may review (reviewers and officers)."""
    return User.objects.filter(
        staff_memberships__foundation_id=application.call.fund.foundation_id,
        staff_memberships__role__in=roles_with(Capability.REVIEW),
        is_active=True,
    ).distinct()


def assign_reviewers(applications: list[Application], reviewers: list, *, by) -> list[ReviewAssignment]:
    """Assign each reviewer to each application (existing assignments are kept, not duplicated).

    Each reviewer gets one email for the whole batch, in their language. Applications must be
    submitted and not decided; reviewers must be staff of the application's foundation.
    """
    created = []
    with transaction.atomic():
        for application in applications:
            locked = _locked(application)
            _officer(by, locked)
            if locked.status not in ASSIGNABLE_STATES:
                raise IllegalTransition(
                    _("%(reference)s cannot get reviewers while it is “%(state)s”.")
                    % {"reference": locked.reference, "state": locked.get_status_display()}
                )
            allowed = set(eligible_reviewers(locked).values_list("pk", flat=True))
            for reviewer in reviewers:
                if reviewer.pk not in allowed:
                    raise IllegalTransition(
                        _("%(person)s does not review for this foundation.") % {"person": reviewer}
                    )
                assignment, is_new = ReviewAssignment.objects.get_or_create(
                    application=locked, reviewer=reviewer, defaults={"assigned_by": by}
                )
                if is_new:
                    created.append(assignment)
                    record(subject=locked, subject_type="application", action="reviewer_assigned", actor=by,
                           foundation=locked.call.fund.foundation, note=str(reviewer.pk))  # fmt: skip
        by_reviewer: dict[int, list[ReviewAssignment]] = {}
        for assignment in created:
            by_reviewer.setdefault(assignment.reviewer_id, []).append(assignment)
        for assignments in by_reviewer.values():
            reviewer = assignments[0].reviewer
            send_templated_email(
                "review_assignments",
                to=[reviewer.email],
                language=reviewer.preferred_language,
                context={"reviewer": reviewer, "count": len(assignments),
                         "references": [a.application.reference for a in assignments],
                         "url": reverse("reviews:index")},
            )  # fmt: skip
    return created


# What a reviewer types (comments, a conflict note): refused beyond this, never cut.
REVIEW_TEXT_LENGTH = 2000


def declare_conflict(
    assignment: ReviewAssignment, *, by, has_conflict: bool, note: str = ""
) -> ReviewAssignment:
    """The assigned reviewer declares whether they have a conflict of interest.

    No conflict: the reviewer may now open and score the application. A conflict: the
    assignment ends and the officer who assigned it is told.
    """
    with transaction.atomic():
        locked = (
            ReviewAssignment.objects.select_for_update(of=("self",))  # assigned_by is an outer join
            .select_related("application__call__fund__foundation", "assigned_by")
            .get(pk=assignment.pk)
        )
        if locked.reviewer_id != by.pk:
            raise ReviewError(_("Only the assigned reviewer can declare this."))
        if locked.status != ReviewAssignment.Status.AWAITING_DECLARATION:
            raise ReviewError(_("You have already declared for this application."))
        locked.status = (
            ReviewAssignment.Status.CONFLICT if has_conflict else ReviewAssignment.Status.REVIEWING
        )
        locked.conflict_note = within_limit(note, REVIEW_TEXT_LENGTH) if has_conflict else ""
        locked.declared_at = timezone.now()
        locked.save(update_fields=["status", "conflict_note", "declared_at"])
        application = locked.application
        record(subject=application, subject_type="application",
               action="conflict_declared" if has_conflict else "no_conflict_declared", actor=by,
               foundation=application.call.fund.foundation, note=locked.conflict_note)  # fmt: skip
        if has_conflict and locked.assigned_by:
            officer = locked.assigned_by
            send_templated_email(
                "review_conflict",
                to=[officer.email],
                language=officer.preferred_language,
                context={"officer": officer, "reviewer": by, "application": application,
                         "url": reverse("applications:inspect", args=[application.pk])},
            )  # fmt: skip
    assignment.refresh_from_db()
    return assignment


def can_open_application(user, application: Application) -> bool:
    """Officers of the foundation, or a reviewer who declared no conflict on this application."""
    if is_officer(user, application) and not _has_declared_conflict(user, application):
        return True
    return ReviewAssignment.objects.filter(
        application=application,
        reviewer=user,
        status__in=(ReviewAssignment.Status.REVIEWING, ReviewAssignment.Status.SUBMITTED),
    ).exists()


def _weighted(rubric: list[dict], scores: dict) -> Decimal | None:
    total_weight = Decimal("0")
    total = Decimal("0")
    for criterion in rubric:
        entry = scores.get(criterion["id"]) or {}
        if entry.get("score") in (None, ""):
            return None
        weight = Decimal(str(criterion["weight"]))
        total += weight * Decimal(str(entry["score"]))
        total_weight += weight
    if total_weight == 0:
        return None
    return (total / total_weight).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def save_review(
    assignment: ReviewAssignment,
    *,
    by,
    rubric: list[dict],
    scores: dict,
    recommendation: str,
    comment: str = "",
    submit: bool = False,
) -> Review:
    """Save (and with ``submit`` finish) a review. Scores are whole numbers 0-5 per criterion.

    Submitting needs a score for every criterion and a recommendation; the application's
    average score is recomputed. A submitted review cannot be changed.
    """
    errors = []
    clean_scores = {}
    for criterion in rubric:
        entry = scores.get(criterion["id"]) or {}
        raw = entry.get("score")
        comment_text = str(entry.get("comment") or "").strip()
        if len(comment_text) > REVIEW_TEXT_LENGTH:  # refused, never cut: the reviewer shortens it
            errors.append(
                _(
                    "The comment on “%(criterion)s” can be at most %(limit)s characters long (it has %(count)s)."
                )
                % {"criterion": criterion["label"], "limit": REVIEW_TEXT_LENGTH, "count": len(comment_text)}
            )
        if raw in (None, ""):
            if submit:
                errors.append(_("Give a score for “%(criterion)s”.") % {"criterion": criterion["label"]})
            clean_scores[criterion["id"]] = {"score": None, "comment": comment_text}
            continue
        try:
            value = int(str(raw))
        except (ValueError, InvalidOperation):
            value = -1
        if not 0 <= value <= 5:
            errors.append(_("Scores for “%(criterion)s” go from 0 to 5.") % {"criterion": criterion["label"]})
            continue
        clean_scores[criterion["id"]] = {"score": value, "comment": comment_text}
    comment = (comment or "").strip()
    if len(comment) > REVIEW_TEXT_LENGTH:
        errors.append(
            _("Your comment can be at most %(limit)s characters long (it has %(count)s); shorten it.")
            % {"limit": REVIEW_TEXT_LENGTH, "count": len(comment)}
        )
    if recommendation and recommendation not in Recommendation.values:
        errors.append(_("Choose a recommendation."))
    if submit and not recommendation:
        errors.append(_("Choose a recommendation."))
    if errors:
        raise ReviewError(errors if len(errors) > 1 else errors[0])
    with transaction.atomic():
        locked = (
            ReviewAssignment.objects.select_for_update(of=("self",))
            .select_related("application__call__fund__foundation")
            .get(pk=assignment.pk)
        )
        if locked.reviewer_id != by.pk:
            raise ReviewError(_("Only the assigned reviewer can review."))
        if locked.status == ReviewAssignment.Status.AWAITING_DECLARATION:
            raise ReviewError(_("Declare any conflict of interest first."))
        if locked.status == ReviewAssignment.Status.CONFLICT:
            raise ReviewError(_("You declared a conflict of interest for this application."))
        if locked.status == ReviewAssignment.Status.SUBMITTED:
            raise ReviewError(_("This review is already submitted."))
        application = locked.application
        if application.status in (
            ApplicationStatus.APPROVED,
            ApplicationStatus.DECLINED,
            ApplicationStatus.WITHDRAWN,
        ):
            raise ReviewError(_("This application is already decided."))
        review, _created = Review.objects.get_or_create(
            assignment=locked, defaults={"application": application}
        )
        review.rubric = rubric
        review.scores = clean_scores
        review.recommendation = recommendation
        review.comment = comment[:5000]
        if submit:
            review.weighted_score = _weighted(rubric, clean_scores)
            review.submitted_at = timezone.now()
            locked.status = ReviewAssignment.Status.SUBMITTED
            locked.save(update_fields=["status"])
        review.save()
        if submit:
            Application.objects.filter(pk=application.pk).update(**review_summary(application))
            record(subject=application, subject_type="application", action="review_submitted", actor=by,
                   foundation=application.call.fund.foundation, note=review.recommendation)  # fmt: skip
    return review


def review_summary(application: Application) -> dict:
    """The application's stored review summary, from its submitted reviews (one query): average
    score, how many reviews, how many recommend each way."""
    summary = Review.objects.filter(application=application, submitted_at__isnull=False).aggregate(
        avg=Avg("weighted_score"),
        n=Count("pk"),
        fund=Count("pk", filter=Q(recommendation=Recommendation.FUND)),
        maybe=Count("pk", filter=Q(recommendation=Recommendation.MAYBE)),
        no=Count("pk", filter=Q(recommendation=Recommendation.DO_NOT_FUND)),
    )
    return {
        "review_score": summary["avg"].quantize(Decimal("0.01")) if summary["avg"] is not None else None,
        "review_count": summary["n"],
        "fund_count": summary["fund"],
        "maybe_count": summary["maybe"],
        "do_not_fund_count": summary["no"],
    }


def reviews_visible_to(user, application: Application):
    """Submitted reviews the user may read: officers see all; a reviewer sees others' only after
    submitting their own."""
    submitted = Review.objects.filter(application=application, submitted_at__isnull=False).select_related(
        "assignment__reviewer"
    )
    if is_officer(user, application) and not _has_declared_conflict(user, application):
        return list(submitted)
    own_done = ReviewAssignment.objects.filter(
        application=application, reviewer=user, status=ReviewAssignment.Status.SUBMITTED
    ).exists()
    return list(submitted) if own_done else []


# --- More information -------------------------------------------------------------------------


def request_more_information(
    application: Application, *, by, message: str, question_ids: list[str]
) -> InformationRequest:
    """Ask the applicant for more: the message says what is missing, ``question_ids`` name the
    answers they may revise. They are told by email and on their dashboard, in their language."""
    message = (message or "").strip()
    if not message:
        raise ApplicationError(_("Write what is missing, in words the applicant will understand."))
    with transaction.atomic():
        locked = _locked(application)
        actor = _officer(by, locked)
        request = InformationRequest.objects.create(
            application=locked, requested_by=by, message=message[:5000], question_ids=list(question_ids)
        )
        _transition(locked, "request_more_info", by=by, actor=actor, note=message[:1000], visible=True)
        notify_members(locked, "more_information_requested", {"message": request.message})
    application.refresh_from_db()
    return request


def open_information_request(application: Application) -> InformationRequest | None:
    return application.information_requests.filter(answered_at__isnull=True).first()


def resubmit_application(application: Application, *, sections: list[Section], by, actor: str) -> Application:
    """More information requested → resubmitted, with every rule checked again and a new version
    kept. Idempotent for a double click."""
    with transaction.atomic():
        locked = _locked(application)
        if locked.status == ApplicationStatus.RESUBMITTED:
            return locked
        check_transition(APPLICATION_TRANSITIONS, "resubmit", locked.status, actor)
        if validate_application(locked, sections):
            raise ApplicationError(_("Some answers need attention before you can submit."))
        snapshot_version(locked, by=by)
        locked.information_requests.filter(answered_at__isnull=True).update(answered_at=timezone.now())
        _transition(locked, "resubmit", by=by, actor=actor, visible=True)
    application.refresh_from_db()
    return application


def compare_versions(older: ApplicationVersion, newer: ApplicationVersion) -> list[dict]:
    """Answers that differ between two versions: ``[{"key", "before", "after"}]``."""
    keys = sorted(
        set(older.answers) | set(newer.answers) | set(older.sensitive_answers) | set(newer.sensitive_answers)
    )
    changes = []
    for key in keys:
        before = older.answers.get(key, older.sensitive_answers.get(key))
        after = newer.answers.get(key, newer.sensitive_answers.get(key))
        if before != after:
            changes.append({"key": key, "before": before, "after": after})
    return changes


# --- Decisions --------------------------------------------------------------------------------


def approve_application(
    application: Application, *, by, amount: Money, confirm_over_requested: bool = False, message: str = ""
) -> Application:
    """Approve with the amount to award, in the fund's currency.

    More than requested needs ``confirm_over_requested``. An officer who declared a conflict
    cannot decide. The applicant is told in their language.
    """
    with transaction.atomic():
        locked = _locked(application)
        actor = _officer(by, locked)
        if _has_declared_conflict(by, locked):
            raise IllegalTransition(_("You declared a conflict of interest: another officer must decide."))
        currency = locked.call.fund.currency
        if not isinstance(amount, Money) or str(amount.currency) != currency:
            raise ApplicationError(
                _("The amount must be in the fund's currency (%(currency)s).") % {"currency": currency}
            )
        if amount.amount <= 0:
            raise ApplicationError(_("The amount to award must be greater than zero."))
        requested = locked.requested_amount
        if requested is not None and amount > requested and not confirm_over_requested:
            raise ApplicationError(
                _("This is more than the %(requested)s requested. Confirm to award more.")
                % {"requested": requested}
            )
        locked.award_amount = amount
        locked.decision_reason = message[:5000]
        locked.decided_by = by
        locked.decided_at = timezone.now()
        _transition(locked, "approve", by=by, actor=actor, note=str(amount), visible=True,
                    fields=("award_amount", "award_currency", "decision_reason", "decided_by", "decided_at"))  # fmt: skip
        notify_members(locked, "application_approved", {"amount": amount, "message": locked.decision_reason})
    application.refresh_from_db()
    return application


def decline_application(application: Application, *, by, reason: str) -> Application:
    """Decline with a reason the applicant reads (in their language). A conflicted officer cannot."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the applicant a reason."))
    with transaction.atomic():
        locked = _locked(application)
        actor = _officer(by, locked)
        if _has_declared_conflict(by, locked):
            raise IllegalTransition(_("You declared a conflict of interest: another officer must decide."))
        locked.decision_reason = reason[:5000]
        locked.decided_by = by
        locked.decided_at = timezone.now()
        _transition(locked, "decline", by=by, actor=actor, note=reason[:1000], visible=True,
                    fields=("decision_reason", "decided_by", "decided_at"))  # fmt: skip
        notify_members(locked, "application_declined", {"message": locked.decision_reason})
    application.refresh_from_db()
    return application


def decide_batch(
    applications: list[Application], *, by, decision: str, reason_by_language: dict | None = None
):
    """Approve (at the amount requested) or decline many applications. Each one is decided in
    its own transaction; returns ``(decided, refused)`` where refused pairs an application with
    the message saying why."""
    decided, refused = [], []
    for application in applications:
        try:
            if decision == "approve":
                if application.requested_amount is None:
                    raise ApplicationError(_("No amount was requested."))
                decided.append(approve_application(application, by=by, amount=application.requested_amount))
            elif decision == "decline":
                texts = reason_by_language or {}
                reason = texts.get(application.language) or texts.get("en") or ""
                decided.append(decline_application(application, by=by, reason=reason))
            else:
                raise ApplicationError(_("Choose approve or decline."))
        except DomainError as error:
            refused.append((application, error.message))
    return decided, refused


def add_comment(application: Application, *, by, text: str, shared_with_applicant: bool) -> None:
    """An officer's or reviewer's comment on the timeline; shared ones are shown to the applicant."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("Write a comment."))
    if not can_open_application(by, application):
        raise IllegalTransition(_("You are not allowed to do this."))
    if shared_with_applicant and not is_officer(by, application):
        raise IllegalTransition(_("Only officers can write to the applicant."))
    record(subject=application, subject_type="application", action="comment", actor=by,
           foundation=application.call.fund.foundation, note=text[:5000],
           visible_to_applicant=shared_with_applicant)  # fmt: skip


def officers_of(application: Application):
    return User.objects.filter(
        pk__in=StaffMembership.objects.filter(
            foundation_id=application.call.fund.foundation_id,
            role__in=roles_with(Capability.DECIDE_APPLICATIONS),
        ).values("user_id")
    )


# --- Helpers for the admin views --------------------------------------------------------------
# Added with the officers' and reviewers' screens in Wagtail admin. They decide nothing new:
# ``officer_actions`` only tells a screen which forms the rules above will accept right now,
# and ``assign_reviewers_where_possible`` reports refusals per application for batch screens.

#: The states in which ``assign_reviewers`` accepts an application (kept in step with it).
OFFICER_TRANSITIONS = ("start_screening", "send_to_review", "request_more_info", "approve", "decline")


def officer_actions(user, application: Application) -> list[str]:
    """Names of the officer actions ``user`` may take on ``application`` in its current state:
    the transitions of ``APPLICATION_TRANSITIONS`` open to officers, ``assign_reviewers`` and
    ``comment``. A declared conflict removes deciding and commenting. Each service still checks."""
    if not is_officer(user, application):
        return []
    conflicted = _has_declared_conflict(user, application)
    actions = []
    for name in OFFICER_TRANSITIONS:
        transition = APPLICATION_TRANSITIONS[name]
        if application.status not in transition.sources or OFFICER not in transition.actors:
            continue
        if conflicted and name in ("approve", "decline"):
            continue
        actions.append(name)
    if application.status in ASSIGNABLE_STATES:
        actions.append("assign_reviewers")
    if not conflicted:
        actions.append("comment")
    return actions


def assign_reviewers_where_possible(applications: list[Application], reviewers: list, *, by):
    """Like ``assign_reviewers`` for a batch, but an application that cannot get these reviewers
    is left out and reported instead of refusing the whole batch.

    Returns ``(created, refused)``: the new assignments, and ``(application, message)`` pairs.
    The accepted applications are assigned in one ``assign_reviewers`` call, so each reviewer
    still gets one email for the batch.
    """
    accepted, refused = [], []
    for application in applications:
        try:
            _officer(by, application)
            if application.status not in ASSIGNABLE_STATES:
                raise IllegalTransition(
                    _("%(reference)s cannot get reviewers while it is “%(state)s”.")
                    % {"reference": application.reference, "state": application.get_status_display()}
                )
            allowed = set(eligible_reviewers(application).values_list("pk", flat=True))
            for reviewer in reviewers:
                if reviewer.pk not in allowed:
                    raise IllegalTransition(
                        _("%(person)s does not review for this foundation.") % {"person": reviewer}
                    )
        except DomainError as error:
            refused.append((application, error.message))
        else:
            accepted.append(application)
    created = assign_reviewers(accepted, reviewers, by=by) if accepted else []
    return created, refused
