"""The foundation's requests for more information as the applicant meets them: which answers
they may change, and the questions named in order.
"""

from django.utils.translation import gettext as _

from grants.models import Application, ApplicationStatus, InformationRequest
from grants.questions import Section
from grants.services import answers as answer_forms
from grants.services import reviews as review_service

CORE_KEYS = (answer_forms.TITLE_KEY, answer_forms.AMOUNT_KEY)
DECIDED = (ApplicationStatus.APPROVED, ApplicationStatus.DECLINED)


def _core_label(key: str) -> str:
    if key == answer_forms.TITLE_KEY:
        return _("Name of your project or request")
    return _("Amount requested")


def information_request_for(application: Application) -> InformationRequest | None:
    """The officer's open request while the application waits for more information."""
    if application.status != ApplicationStatus.MORE_INFO_REQUESTED:
        return None
    return review_service.open_information_request(application)


def editable_ids_for(application: Application, info_request: InformationRequest | None) -> set[str] | None:
    """Keys the applicant may change: ``None`` means every answer (a draft); while more
    information is requested, only the answers the officer named."""
    if application.status == ApplicationStatus.MORE_INFO_REQUESTED:
        return set(info_request.question_ids or []) if info_request is not None else set()
    return None


def named_questions(sections: list[Section], ids) -> list[dict]:
    """The answers named by an information request, in form order: label and step number."""
    ids = set(ids or [])
    named = [{"label": _core_label(key), "number": 1} for key in CORE_KEYS if key in ids]
    for section in sections:
        for question in section.questions:
            if question.id in ids:
                named.append({"label": question.label, "number": section.number})
    return named


def first_step_for(sections: list[Section], ids) -> int:
    steps = [item["number"] for item in named_questions(sections, ids)]
    return min(steps) if steps else 1
