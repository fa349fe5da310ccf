"""Applications: eligibility, drafts, private uploads, submit, withdraw.

Every function takes the acting user (``by``) and, where the rules differ, the kind of actor
(``"applicant"`` or ``"intake_staff"``, see ``grants.permissions.application_actor``).
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import filetype
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.forms.amounts import format_amount
from grants.models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    ApplicationVersion,
    Foundation,
    FundingCall,
    IntakeChannel,
    Organization,
)
from grants.questions import FILE_TYPES, EligibilityQuestion, Question, Section
from grants.scoping_organizations import is_related
from grants.services import answers as answer_forms
from grants.services.errors import ApplicationError, UploadRejected
from grants.services.notifications import send_templated_email
from grants.services.text_limits import within_limit
from grants.services.workflow import APPLICATION_TRANSITIONS, check_transition, record


def check_eligibility(questions: list[EligibilityQuestion], given: dict[str, str]) -> list[str]:
    """Reasons the person is not eligible (empty when eligible). Creates nothing.

    Raises ``ApplicationError`` when a question was left unanswered.
    """
    reasons = []
    for question in questions:
        answer = given.get(question.id)
        if answer not in ("yes", "no"):
            raise ApplicationError(_("Please answer every question."))
        if (answer == "yes") != question.eligible_answer:
            reasons.append(question.reason)
    return reasons


def _ensure_open(call: FundingCall, now: datetime.datetime | None = None) -> None:
    if not call.is_open(now):
        if call.status_at(now) == "upcoming":
            raise ApplicationError(_("This call is not open yet."))
        with timezone.override(call.tz):
            closed = formats.date_format(timezone.localtime(call.closes_at), "DATETIME_FORMAT")
        raise ApplicationError(_("This call closed on %(date)s. Drafts stay readable.") % {"date": closed})


def start_application(
    *,
    call: FundingCall,
    organization: Organization,
    by,
    language: str,
    channel: str = IntakeChannel.ONLINE,
) -> Application:
    """Create a draft for ``organization`` on an open ``call``.

    An organization keeps one draft per call: starting again returns the existing draft.
    """
    _ensure_open(call)
    with transaction.atomic():
        existing = (
            Application.objects.select_for_update()
            .filter(call=call, organization=organization, status=ApplicationStatus.DRAFT)
            .first()
        )
        if existing is not None:
            return existing
        application = Application.objects.create(
            call=call,
            organization=organization,
            language=language,
            intake_channel=channel,
            created_by=by,
            requested_currency=call.fund.currency,
        )
        record(
            subject=application,
            subject_type="application",
            action="started" if channel == IntakeChannel.ONLINE else "started_by_staff",
            actor=by,
            foundation=call.fund.foundation,
            to_state=ApplicationStatus.DRAFT,
            note=IntakeChannel(channel).label if channel != IntakeChannel.ONLINE else "",
        )
    return application


def _money_or_none(raw, currency: str):
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2 or value >= Decimal("1e12"):
        return None
    return Money(value, currency)


def save_section(
    application: Application,
    *,
    section: Section,
    raw: dict,
    by,
    editable_ids: Iterable[str] | None = None,
) -> Application:
    """Store what was typed in one section as is (a draft may be incomplete or even wrong).

    Answers to sensitive questions go to ``sensitive_answers`` only.

    ``editable_ids`` (question ids, and ``_title`` / ``_requested_amount``), when given, are the
    only keys of ``raw`` that are stored; other keys are ignored. While more information is
    requested, only the answers named by the open information request can change, whatever
    the caller passes (``editable_ids`` can only narrow them): a crafted POST cannot change
    any other answer.
    """
    if not application.is_editable:
        raise ApplicationError(_("This application can no longer be changed."))
    sensitive_ids = {q.id for q in section.questions if q.sensitive}
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if not locked.is_editable:
            raise ApplicationError(_("This application can no longer be changed."))
        allowed = None if editable_ids is None else set(editable_ids)
        if locked.status == ApplicationStatus.MORE_INFO_REQUESTED:
            request = locked.information_requests.filter(answered_at__isnull=True).first()
            named = set(request.question_ids or []) if request is not None else set()
            allowed = named if allowed is None else allowed & named
        if allowed is not None:
            raw = {key: value for key, value in raw.items() if key in allowed}
        for key, value in raw.items():
            target = locked.sensitive_answers if key in sensitive_ids else locked.answers
            target[key] = value
        if answer_forms.TITLE_KEY in raw:
            locked.title = str(raw[answer_forms.TITLE_KEY] or "")[:200]
        if answer_forms.AMOUNT_KEY in raw:
            locked.requested_amount = _money_or_none(raw[answer_forms.AMOUNT_KEY], locked.call.fund.currency)
        locked.save(update_fields=["answers", "sensitive_answers", "title", "requested_amount",
                                   "requested_currency", "updated_at"])  # fmt: skip
    application.refresh_from_db()
    return application


def add_attachment(application: Application, *, question: Question, upload, by) -> ApplicationAttachment:
    """Store ``upload`` privately for ``question`` after checking its size and its real type.

    The type is read from the file's bytes, not its name: a program renamed ``.pdf`` is refused.
    A new upload replaces an earlier file for the same question.
    """
    if not application.is_editable:
        raise ApplicationError(_("This application can no longer be changed."))
    limit_mb = question.max_size_mb or 5
    if upload.size > limit_mb * 1024 * 1024:
        raise UploadRejected(
            _("“%(name)s” is %(size)s; files for this question can be at most %(limit)d MB.")
            % {
                "name": upload.name,
                "size": formats.number_format(upload.size / 1048576, 1) + " MB",
                "limit": limit_mb,
            }
        )
    allowed = {mime for key in question.file_types for mime in FILE_TYPES.get(key, ("", ()))[1]}
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    detected = kind.mime if kind else None
    if detected not in allowed:
        names = ", ".join(FILE_TYPES[key][0] for key in question.file_types if key in FILE_TYPES)
        raise UploadRejected(
            _("“%(name)s” is not an accepted file type. Accepted: %(types)s.")
            % {"name": upload.name, "types": names}
        )
    with transaction.atomic():
        for old in application.attachments.filter(question_id=question.id):
            old.file.delete(save=False)
            old.delete()
        attachment = ApplicationAttachment(
            application=application,
            question_id=question.id,
            original_name=upload.name[:255],
            content_type=detected,
            size=upload.size,
            uploaded_by=by,
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
    return attachment


def remove_attachment(attachment: ApplicationAttachment, *, by) -> None:
    if not attachment.application.is_editable:
        raise ApplicationError(_("This application can no longer be changed."))
    attachment.file.delete(save=False)
    attachment.delete()


def amount_range(call: FundingCall) -> tuple[Decimal, Decimal]:
    return call.min_amount.amount, call.max_amount.amount


def validate_application(
    application: Application, sections: list[Section]
) -> dict[int, answer_forms.SectionForm]:
    """Bind the stored answers to every section with every rule on.

    Returns ``{section number: form}`` for the sections that have errors (empty when valid).
    """
    currency = application.call.fund.currency
    invalid = {}
    files = set(application.attachments.values_list("question_id", flat=True))
    for section in sections:
        form = answer_forms.bind_section(
            section,
            answers=application.answers,
            sensitive=application.sensitive_answers,
            currency=currency,
            draft=False,
            amount_range=amount_range(application.call),
        )
        form.is_valid()
        for question in section.questions:
            name = answer_forms.field_name(question)
            if question.type == "file" and question.required and question.id not in files:
                form.add_error(name, _("Upload a file for this question."))
            if question.type == "budget" and name in form.cleaned_data and form.cleaned_data[name]:
                total = answer_forms.budget_total(form.cleaned_data[name])
                requested = application.requested_amount.amount if application.requested_amount else None
                if requested is not None and total != requested:
                    form.add_error(
                        name,
                        _(
                            "The budget adds up to %(total)s but you request %(requested)s; they must be equal."
                        )
                        % {
                            # Written as the amount inputs read them back ("12.000,00" in Spanish).
                            "total": format_amount(total, decimals=2),
                            "requested": format_amount(requested, decimals=2),
                        },
                    )
        if form.errors:
            invalid[section.number] = form
    return invalid


def _next_reference(call: FundingCall) -> str:
    """Foundation prefix, year and a sequence per foundation and year, e.g. ``BAYA-2026-00042``.

    Called under a row lock on the foundation, so two submissions never get the same number.
    """
    foundation = Foundation.objects.select_for_update().get(pk=call.fund.foundation_id)
    prefix = "".join(ch for ch in foundation.slug.upper() if ch.isalnum())[:4] or "APP"
    year = timezone.now().year
    stem = f"{prefix}-{year}-"
    last = (
        Application.objects.filter(reference__startswith=stem, call__fund__foundation=foundation)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{number:05d}"


def snapshot_version(application: Application, *, by) -> ApplicationVersion:
    """Keep the answers exactly as (re)submitted; earlier versions are never changed."""
    number = (application.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return ApplicationVersion.objects.create(
        application=application,
        number=number,
        title=application.title,
        requested_amount=application.requested_amount,
        answers=application.answers,
        sensitive_answers=application.sensitive_answers,
        submitted_by=by,
    )


def submit_application(application: Application, *, sections: list[Section], by, actor: str) -> Application:
    """Submit a draft: the call must be open and every answer valid.

    Idempotent: a second submit of an already submitted application (a double click) changes
    nothing and sends nothing. On success the questions are snapshotted with the answers, a
    reference is given, the activity is recorded and a confirmation is emailed to the members
    in each one's language.
    """
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update(of=("self",))
            .select_related("call__fund__foundation")
            .get(pk=application.pk)
        )
        if locked.status == ApplicationStatus.SUBMITTED and locked.submitted_at is not None:
            return locked
        check_transition(APPLICATION_TRANSITIONS, "submit", locked.status, actor)
        _ensure_open(locked.call)
        invalid = validate_application(locked, sections)
        if invalid:
            raise ApplicationError(_("Some answers need attention before you can submit."))
        locked.question_snapshot = [
            {"section": section.heading, "section_help": section.help_text, "number": section.number,
             "questions": [q.as_dict() for q in section.questions]}
            for section in sections
        ]  # fmt: skip
        locked.reference = _next_reference(locked.call)
        locked.status = ApplicationStatus.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.submitted_by = by
        call = locked.call
        if call.rapid_response and call.decision_target_hours:
            locked.decision_due_at = locked.submitted_at + datetime.timedelta(
                hours=call.decision_target_hours
            )
        locked.save(update_fields=["question_snapshot", "reference", "status", "submitted_at", "submitted_by",
                                   "decision_due_at", "updated_at"])  # fmt: skip
        snapshot_version(locked, by=by)
        record(
            subject=locked,
            subject_type="application",
            action="submitted",
            actor=by,
            foundation=locked.call.fund.foundation,
            from_state=ApplicationStatus.DRAFT,
            to_state=ApplicationStatus.SUBMITTED,
            visible_to_applicant=True,
        )
        notify_members(locked, "application_submitted")
    application.refresh_from_db()
    return application


WITHDRAW_NOTE_LENGTH = 1000


def withdraw_application(application: Application, *, by, actor: str, note: str = "") -> Application:
    """Withdraw a draft or an application under consideration. Withdrawn is final."""
    note = within_limit(note, WITHDRAW_NOTE_LENGTH)
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update(of=("self",))
            .select_related("call__fund__foundation")
            .get(pk=application.pk)
        )
        previous = locked.status
        check_transition(APPLICATION_TRANSITIONS, "withdraw", previous, actor)
        locked.status = ApplicationStatus.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["status", "withdrawn_at", "updated_at"])
        record(
            subject=locked,
            subject_type="application",
            action="withdrawn",
            actor=by,
            foundation=locked.call.fund.foundation,
            from_state=previous,
            to_state=ApplicationStatus.WITHDRAWN,
            note=note[:1000],
            visible_to_applicant=True,
        )
        if previous != ApplicationStatus.DRAFT:
            notify_members(locked, "application_withdrawn")
    application.refresh_from_db()
    return application


def notify_members(
    application: Application, template: str, extra: dict | None = None, *, link: tuple | None = None
) -> None:
    """Email every member of the organization in their own language, after commit, and note each
    email on the timeline. No answers are included. ``link`` is (url name, kwargs) of the page
    the email points to (the application by default)."""
    url_name, url_kwargs = link or ("application_detail", {"pk": application.pk})
    foundation = application.call.fund.foundation
    for membership in application.organization.memberships.select_related("user"):
        user = membership.user
        language = user.preferred_language or application.language
        with translation.override(language):
            url = reverse(url_name, kwargs=url_kwargs)
        call_title = (
            application.call.pages.filter(locale__language_code=language)
            .values_list("title", flat=True)
            .first()
            or application.call.title
        )
        send_templated_email(
            template,
            to=[user.email],
            language=language,
            context={"application": application, "call_title": call_title, "foundation": foundation,
                     "url": url, "user": user, **(extra or {})},
        )  # fmt: skip
        record(subject=application, subject_type="application", action="email_sent", actor=None,
               foundation=foundation, note=template)  # fmt: skip


def start_staff_intake(
    *, call: FundingCall, by, channel: str, language: str, organization: Organization | None = None,
    organization_fields: dict | None = None,
) -> Application:  # fmt: skip
    """A program officer enters an application for a group that applies by phone or in person.

    Uses an existing ``organization`` or creates one from ``organization_fields`` (with no
    members: the group has no login). The officer then fills in and submits the form; the
    channel is recorded on the application and in the activity log. An existing organization
    must already be related to the call's foundation (``grants.scoping_organizations``): staff
    never attach a draft to a group that came only to another foundation.
    """
    if channel == IntakeChannel.ONLINE:
        raise ApplicationError(_("Choose how the application was received: by phone or in person."))
    if organization is not None and not is_related(organization, call.fund.foundation_id):
        raise ApplicationError(_("This organization has not worked with the call's foundation."))
    with transaction.atomic():
        if organization is None:
            organization = Organization(created_by=by, **(organization_fields or {}))
            organization.full_clean(exclude=["created_by"])
            organization.save()
        return start_application(
            call=call, organization=organization, by=by, language=language, channel=channel
        )
