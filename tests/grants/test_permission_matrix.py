"""Every admin view of review and decisions × every role, with the status each must get.

Expected outcomes:
- OK: 200 (for the POST actions the request is refused for its content, so nothing changes);
- LOGIN: not signed in, or no admin access at all (applicants): 302 to the admin login;
- DENIED: Wagtail admin's answer to PermissionDenied (a 403): 302 to the dashboard with
  "Sorry, you do not have permission to access this area.";
- NOT_FOUND: 404 (objects of another foundation, or an application the person cannot reach).
"""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    DecisionMessage,
    ReviewAssignment,
    Role,
)
from grants.services import applications as app_service
from grants.services import reviews as review_service
from tests.grants.test_admin_reviews import build, set_status, staff
from tests.grants.test_applications import PDF_BYTES

OK, LOGIN, DENIED, NOT_FOUND = "200", "login", "denied", "404"
ROLES = ["foundation_admin", "program_officer", "reviewer_before", "reviewer_after", "reviewer_unassigned",
         "finance_officer", "auditor", "other_foundation", "applicant", "anonymous"]  # fmt: skip


def row(*outcomes):
    assert len(outcomes) == len(ROLES)
    return dict(zip(ROLES, outcomes, strict=True))


#                       admin  officer before  after  unassig finance auditor other  applic anon
OFFICER_LIST = row(OK, OK, DENIED, DENIED, DENIED, DENIED, OK, OK, LOGIN, LOGIN)
OFFICER_DETAIL = row(OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, LOGIN, LOGIN)
OFFICER_ACTION = row(OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, DENIED, NOT_FOUND, LOGIN, LOGIN)
OFFICER_ONLY = row(OK, OK, DENIED, DENIED, DENIED, DENIED, DENIED, OK, LOGIN, LOGIN)
REVIEW_AREA = row(OK, OK, OK, OK, OK, DENIED, DENIED, OK, LOGIN, LOGIN)
OWN_ASSIGNMENT = row(NOT_FOUND, NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, LOGIN, LOGIN)
AFTER_DECLARING = row(NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, LOGIN,
                      LOGIN)  # fmt: skip
MESSAGES_LIST = row(OK, OK, DENIED, DENIED, DENIED, DENIED, OK, OK, LOGIN, LOGIN)
MESSAGE_CHANGE = row(OK, OK, DENIED, DENIED, DENIED, DENIED, DENIED, NOT_FOUND, LOGIN, LOGIN)

# (name, method, url pattern, POST data refused for its content, expected outcome per role)
VIEWS = [
    ("officers' list", "get", "/admin/applications/", None, OFFICER_LIST),
    ("CSV export", "get", "/admin/applications/?export=csv", None, OFFICER_LIST),
    ("application detail", "get", "/admin/applications/inspect/{app}/", None, OFFICER_DETAIL),
    ("compare versions", "get", "/admin/applications/inspect/{app}/compare/", None, OFFICER_DETAIL),
    ("start screening", "post", "/admin/applications/inspect/{app}/do/start_screening/", {}, OFFICER_ACTION),
    ("send to review", "post", "/admin/applications/inspect/{app}/do/send_to_review/", {}, OFFICER_ACTION),
    ("assign reviewers", "post", "/admin/applications/inspect/{app}/do/assign_reviewers/",
     {"assign_reviewers-reviewers": []}, OFFICER_ACTION),
    ("request more information", "post", "/admin/applications/inspect/{app}/do/request_more_info/",
     {"request_more_info-message": ""}, OFFICER_ACTION),
    ("approve", "post", "/admin/applications/inspect/{app}/do/approve/", {"approve-amount": "abc"}, OFFICER_ACTION),
    ("decline", "post", "/admin/applications/inspect/{app}/do/decline/", {"decline-reason": ""}, OFFICER_ACTION),
    ("comment", "post", "/admin/applications/inspect/{app}/do/comment/", {"comment-text": ""}, OFFICER_ACTION),
    ("batch list", "get", "/admin/applications/batch/", None, OFFICER_ONLY),
    ("batch action", "post", "/admin/applications/batch/", {"action": "approve"}, OFFICER_ONLY),
    ("my reviews", "get", "/admin/reviews/", None, REVIEW_AREA),
    ("review page", "get", "/admin/reviews/{app}/", None, OWN_ASSIGNMENT),
    ("declare conflict", "post", "/admin/reviews/{app}/declare/", {"conflict": ""}, OWN_ASSIGNMENT),
    ("save scores", "post", "/admin/reviews/{app}/score/", {"score-crit-need": "9", "action": "save"},
     OWN_ASSIGNMENT),
    ("reviewer file download", "get", "/admin/reviews/{app}/files/{file}/", None, AFTER_DECLARING),
    ("decision messages", "get", "/admin/decision-messages/", None, MESSAGES_LIST),
    ("edit a decision message", "get", "/admin/decision-messages/edit/{message}/", None, MESSAGE_CHANGE),
    ("delete a decision message", "get", "/admin/decision-messages/delete/{message}/", None, MESSAGE_CHANGE),
]  # fmt: skip


@pytest.fixture
def world(site):
    data = build(site)
    application = data["application"]
    set_status(application, ApplicationStatus.MORE_INFO_REQUESTED)  # editable, to attach a file
    question = next(q for q in data["page"].get_questions() if q.type == "file")
    attachment = app_service.add_attachment(application, question=question, by=data["applicant"],
                                            upload=SimpleUploadedFile("letter.pdf", PDF_BYTES))  # fmt: skip
    set_status(application, ApplicationStatus.IN_REVIEW)
    review_service.assign_reviewers([application], [data["reviewer"], data["reviewer2"]], by=data["officer"])
    after = ReviewAssignment.objects.get(reviewer=data["reviewer2"])
    review_service.declare_conflict(after, by=data["reviewer2"], has_conflict=False)
    message = DecisionMessage.objects.create(foundation=data["foundation"], title="Fund spent",
                                             body="Spent.", translations={"es": {"body": "Agotado."}})  # fmt: skip
    users = {
        "foundation_admin": data["admin"],
        "program_officer": data["officer"],
        "reviewer_before": data["reviewer"],
        "reviewer_after": data["reviewer2"],
        "reviewer_unassigned": staff(data["foundation"], Role.REVIEWER),
        "finance_officer": data["finance"],
        "auditor": data["auditor"],
        "other_foundation": data["other_officer"],
        "applicant": data["applicant"],
        "anonymous": None,
    }
    ids = {"app": application.pk, "file": attachment.pk, "message": message.pk}
    return {"users": users, "ids": ids, "application": application, "message": message}


DENIED_TEXT = "Sorry, you do not have permission to access this area."


def outcome(client, method, url, payload) -> str:
    response = getattr(client, method)(url, payload or {})
    if response.status_code != 302:
        return str(response.status_code)
    location = response["Location"]
    if location.startswith("/admin/login/"):
        return LOGIN
    if location == "/admin/" and any(DENIED_TEXT in str(m) for m in get_messages(response.wsgi_request)):
        return DENIED
    if location.startswith("/en/admin/"):  # LocaleMiddleware retries a 404 under the language prefix
        return str(getattr(client, method)(url, payload or {}, follow=True).status_code)
    return f"302 to {location}"


@pytest.mark.parametrize(
    ("name", "method", "pattern", "payload", "expected"), VIEWS, ids=[v[0] for v in VIEWS]
)
def test_permission_matrix(world, client, name, method, pattern, payload, expected):
    url = pattern.format(**world["ids"])
    application = world["application"]
    entries = ActivityEntry.objects.count()
    assignments = set(ReviewAssignment.objects.values_list("pk", "status"))
    got = {}
    for role in ROLES:
        client.logout()
        if world["users"][role] is not None:
            client.force_login(world["users"][role])
        got[role] = outcome(client, method, url, payload)
    wrong = {role: (got[role], expected[role]) for role in ROLES if got[role] != expected[role]}
    assert not wrong, f"{name}: role → (got, expected): {wrong}"
    # Whoever asked, nothing changed.
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW
    assert ActivityEntry.objects.count() == entries
    assert set(ReviewAssignment.objects.values_list("pk", "status")) == assignments
    assert DecisionMessage.objects.filter(pk=world["message"].pk).exists()
    assert Application.objects.filter(status=ApplicationStatus.APPROVED).count() == 0


def test_the_matrix_covers_every_view_of_this_area():
    from django.urls import resolve

    from grants.admin.reviews import ReviewsViewSet

    covered = {resolve(pattern.split("?")[0].format(app=1, file=1, message=1)).view_name
               for _, _, pattern, _, _ in VIEWS}  # fmt: skip
    expected = {f"reviews:{p.name}" for p in ReviewsViewSet("reviews").get_urlpatterns()} | {
        "applications:index", "applications:inspect", "applications:compare", "applications:action",
        "applications:batch", "decision-messages:index", "decision-messages:edit", "decision-messages:delete",
    }  # fmt: skip
    assert expected <= covered
