"""Review and decisions, as services: the transition table, conflicts, scores, more information,
versions, approval and decline. Worked examples an officer would recognise."""

import itertools
from decimal import Decimal

import pytest
from django.core import mail
from djmoney.money import Money

from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    ApplicationVersion,
    OrganizationMembership,
    ReviewAssignment,
    Role,
)
from grants.questions import split_sections
from grants.services import applications as app_service
from grants.services import reviews as service
from grants.services.errors import ApplicationError, IllegalTransition
from grants.services.reviews import ReviewError
from grants.services.staff import add_staff
from grants.services.workflow import (
    APPLICANT,
    APPLICATION_TRANSITIONS,
    INTAKE_STAFF,
    OFFICER,
    check_transition,
)
from tests.factories import FoundationFactory, OrganizationFactory, UserFactory
from tests.grants.test_applications import _draft, setup  # noqa: F401 - fixture

RUBRIC = [
    {"id": "impact", "label": "Impact", "weight": "3", "guidance": ""},
    {"id": "feasible", "label": "Feasibility", "weight": "1", "guidance": ""},
]
S = ApplicationStatus


def _staff(foundation, role):
    user = UserFactory(is_staff=True, preferred_language="en")
    add_staff(user, foundation=foundation, role=role)
    return user


@pytest.fixture
def submitted(setup):  # noqa: F811
    application, sections = _draft(setup)
    app_service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    application.refresh_from_db()
    setup["application"] = application
    setup["sections"] = sections
    setup["officer"] = _staff(setup["foundation"], Role.PROGRAM_OFFICER)
    setup["reviewer"] = _staff(setup["foundation"], Role.REVIEWER)
    return setup


# --- The transition table --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "state", "actor"),
    list(
        itertools.product(APPLICATION_TRANSITIONS, S.values, (APPLICANT, INTAKE_STAFF, OFFICER, "reviewer"))
    ),
)
def test_transition_table_allows_exactly_what_it_declares(name, state, actor):
    transition = APPLICATION_TRANSITIONS[name]
    allowed = state in transition.sources and actor in transition.actors
    if allowed:
        assert check_transition(APPLICATION_TRANSITIONS, name, state, actor) is transition
    else:
        with pytest.raises(IllegalTransition):
            check_transition(APPLICATION_TRANSITIONS, name, state, actor)


OFFICER_ACTIONS = {
    "start_screening": lambda a, by: service.start_screening(a, by=by),
    "send_to_review": lambda a, by: service.send_to_review(a, by=by),
    "request_more_info": lambda a, by: service.request_more_information(
        a, by=by, message="Budget detail", question_ids=[]
    ),
    "approve": lambda a, by: service.approve_application(a, by=by, amount=Money(1000, "USD")),
    "decline": lambda a, by: service.decline_application(a, by=by, reason="Out of scope"),
}


@pytest.mark.parametrize("state", [s for s in S.values if s != S.DRAFT])
@pytest.mark.parametrize("action", list(OFFICER_ACTIONS))
def test_refused_officer_transitions_change_nothing(submitted, state, action):
    application = submitted["application"]
    Application.objects.filter(pk=application.pk).update(status=state)
    application.refresh_from_db()
    before_entries = ActivityEntry.objects.count()
    allowed = state in APPLICATION_TRANSITIONS[action].sources
    if allowed:
        OFFICER_ACTIONS[action](application, submitted["officer"])
        application.refresh_from_db()
        assert application.status == APPLICATION_TRANSITIONS[action].target
    else:
        with pytest.raises(IllegalTransition):
            OFFICER_ACTIONS[action](application, submitted["officer"])
        application.refresh_from_db()
        assert application.status == state
        assert ActivityEntry.objects.count() == before_entries


@pytest.mark.parametrize(
    "role", [Role.REVIEWER, Role.FINANCE_OFFICER, Role.AUDITOR, None, "other_foundation"]
)
@pytest.mark.parametrize("action", list(OFFICER_ACTIONS))
def test_only_officers_of_the_foundation_decide(submitted, role, action):
    application = submitted["application"]
    Application.objects.filter(pk=application.pk).update(
        status=S.IN_REVIEW if action != "start_screening" else S.SUBMITTED
    )
    application.refresh_from_db()
    if role is None:
        user = submitted["applicant"]
    elif role == "other_foundation":
        user = _staff(FoundationFactory(), Role.PROGRAM_OFFICER)
    else:
        user = _staff(submitted["foundation"], role)
    status = application.status
    with pytest.raises(IllegalTransition):
        OFFICER_ACTIONS[action](application, user)
    application.refresh_from_db()
    assert application.status == status


# --- Reviewers, conflicts, scores ------------------------------------------------------------


def test_assignment_batch_sends_one_email_per_reviewer(submitted, django_capture_on_commit_callbacks):
    second_app, sections = _draft({**submitted, "organization": _second_org(submitted)})
    app_service.submit_application(
        second_app, sections=sections, by=submitted["applicant"], actor="applicant"
    )
    other_reviewer = _staff(submitted["foundation"], Role.REVIEWER)
    with django_capture_on_commit_callbacks(execute=True):
        created = service.assign_reviewers([submitted["application"], second_app],
                                           [submitted["reviewer"], other_reviewer], by=submitted["officer"])  # fmt: skip
    assert len(created) == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted([submitted["reviewer"].email, other_reviewer.email])
    # Assigning again creates nothing and sends nothing.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert service.assign_reviewers([second_app], [other_reviewer], by=submitted["officer"]) == []
    assert mail.outbox == []


def _second_org(setup):  # noqa: F811
    org = OrganizationFactory()
    OrganizationMembership.objects.create(organization=org, user=setup["applicant"], role="owner")
    return org


def test_reviewer_of_another_foundation_cannot_be_assigned(submitted):
    outsider = _staff(FoundationFactory(), Role.REVIEWER)
    with pytest.raises(IllegalTransition):
        service.assign_reviewers([submitted["application"]], [outsider], by=submitted["officer"])
    assert not ReviewAssignment.objects.exists()


def test_reviewer_sees_the_application_only_after_declaring_no_conflict(submitted):
    application, reviewer = submitted["application"], submitted["reviewer"]
    (assignment,) = service.assign_reviewers([application], [reviewer], by=submitted["officer"])
    assert not service.can_open_application(reviewer, application)
    with pytest.raises(ReviewError):
        service.save_review(assignment, by=reviewer, rubric=RUBRIC, scores={}, recommendation="")
    service.declare_conflict(assignment, by=reviewer, has_conflict=False)
    assert service.can_open_application(reviewer, application)


def test_declared_conflict_removes_the_reviewer_and_tells_the_officer(
    submitted, django_capture_on_commit_callbacks
):
    application, reviewer = submitted["application"], submitted["reviewer"]
    (assignment,) = service.assign_reviewers([application], [reviewer], by=submitted["officer"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        service.declare_conflict(assignment, by=reviewer, has_conflict=True, note="My cousin works there")
    assignment.refresh_from_db()
    assert assignment.status == ReviewAssignment.Status.CONFLICT
    assert not service.can_open_application(reviewer, application)
    assert [m.to for m in mail.outbox] == [[submitted["officer"].email]]
    with pytest.raises(ReviewError):
        service.declare_conflict(assignment, by=reviewer, has_conflict=False)  # cannot take it back


def test_only_the_assigned_reviewer_declares(submitted):
    (assignment,) = service.assign_reviewers(
        [submitted["application"]], [submitted["reviewer"]], by=submitted["officer"]
    )
    with pytest.raises(ReviewError):
        service.declare_conflict(assignment, by=submitted["officer"], has_conflict=False)


def _reviewing(submitted, reviewer=None):
    reviewer = reviewer or submitted["reviewer"]
    (assignment,) = service.assign_reviewers([submitted["application"]], [reviewer], by=submitted["officer"])
    service.declare_conflict(assignment, by=reviewer, has_conflict=False)
    return assignment


def test_weighted_score_and_average_on_the_application(submitted):
    first = _reviewing(submitted)
    second = _reviewing(submitted, _staff(submitted["foundation"], Role.REVIEWER))
    # (3*5 + 1*1) / 4 = 4.00 ; (3*2 + 1*4) / 4 = 2.50 ; average 3.25
    service.save_review(first, by=first.reviewer, rubric=RUBRIC, recommendation="fund", submit=True,
                        scores={"impact": {"score": 5}, "feasible": {"score": 1}})  # fmt: skip
    service.save_review(second, by=second.reviewer, rubric=RUBRIC, recommendation="maybe", submit=True,
                        scores={"impact": {"score": "2"}, "feasible": {"score": 4}})  # fmt: skip
    application = Application.objects.get(pk=submitted["application"].pk)
    assert first.review.weighted_score == Decimal("4.00")
    assert application.review_score == Decimal("3.25")
    assert application.review_count == 2
    # The recommendations the officers' list shows are stored with them.
    assert (application.fund_count, application.maybe_count, application.do_not_fund_count) == (1, 1, 0)
    # A review saved as a draft counts nowhere until it is submitted.
    third = _reviewing(submitted, _staff(submitted["foundation"], Role.REVIEWER))
    service.save_review(third, by=third.reviewer, rubric=RUBRIC, recommendation="do_not_fund", submit=False,
                        scores={"impact": {"score": 1}, "feasible": {"score": 1}})  # fmt: skip
    application.refresh_from_db()
    assert (application.review_count, application.do_not_fund_count) == (2, 0)
    service.save_review(third, by=third.reviewer, rubric=RUBRIC, recommendation="do_not_fund", submit=True,
                        scores={"impact": {"score": 1}, "feasible": {"score": 1}})  # fmt: skip
    application.refresh_from_db()
    assert (application.review_count, application.fund_count, application.maybe_count,
            application.do_not_fund_count) == (3, 1, 1, 1)  # fmt: skip


@pytest.mark.parametrize(
    ("scores", "recommendation", "message"),
    [
        ({"impact": {"score": 6}, "feasible": {"score": 1}}, "fund", "go from 0 to 5"),
        ({"impact": {"score": "x"}, "feasible": {"score": 1}}, "fund", "go from 0 to 5"),
        ({"impact": {"score": 3}}, "fund", "Give a score for “Feasibility”"),
        ({"impact": {"score": 3}, "feasible": {"score": 1}}, "", "Choose a recommendation"),
    ],
)
def test_incomplete_or_wrong_scores_are_refused(submitted, scores, recommendation, message):
    assignment = _reviewing(submitted)
    with pytest.raises(ReviewError) as excinfo:
        service.save_review(assignment, by=assignment.reviewer, rubric=RUBRIC, scores=scores,
                            recommendation=recommendation, submit=True)  # fmt: skip
    assert message in str(excinfo.value.message)
    assignment.refresh_from_db()
    assert assignment.status == ReviewAssignment.Status.REVIEWING


def test_reviewers_see_others_scores_only_after_submitting_their_own(submitted):
    first = _reviewing(submitted)
    second = _reviewing(submitted, _staff(submitted["foundation"], Role.REVIEWER))
    service.save_review(first, by=first.reviewer, rubric=RUBRIC, recommendation="fund", submit=True,
                        scores={"impact": {"score": 5}, "feasible": {"score": 5}})  # fmt: skip
    application = submitted["application"]
    assert service.reviews_visible_to(second.reviewer, application) == []
    service.save_review(second, by=second.reviewer, rubric=RUBRIC, recommendation="maybe", submit=True,
                        scores={"impact": {"score": 1}, "feasible": {"score": 1}})  # fmt: skip
    assert len(service.reviews_visible_to(second.reviewer, application)) == 2
    assert len(service.reviews_visible_to(submitted["officer"], application)) == 2


def test_submitted_review_cannot_be_changed(submitted):
    assignment = _reviewing(submitted)
    service.save_review(assignment, by=assignment.reviewer, rubric=RUBRIC, recommendation="fund", submit=True,
                        scores={"impact": {"score": 5}, "feasible": {"score": 5}})  # fmt: skip
    with pytest.raises(ReviewError):
        service.save_review(assignment, by=assignment.reviewer, rubric=RUBRIC, recommendation="do_not_fund",
                            scores={"impact": {"score": 0}, "feasible": {"score": 0}}, submit=True)  # fmt: skip


# --- More information and versions -----------------------------------------------------------


def test_more_information_round_keeps_every_version(submitted, django_capture_on_commit_callbacks):
    application, officer = submitted["application"], submitted["officer"]
    service.start_screening(application, by=officer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        service.request_more_information(application, by=officer, message="Split the lawyer hours by month.",
                                         question_ids=["demo-a2"])  # fmt: skip
    assert "Split the lawyer hours by month." in mail.outbox[0].body
    application.refresh_from_db()
    assert application.status == S.MORE_INFO_REQUESTED
    first_section = next(s for s in submitted["sections"] if any(q.id == "demo-a2" for q in s.questions))
    app_service.save_section(application, section=first_section, raw={"demo-a2": "Lawyers: 100 h in March, 60 h in April."},
                             by=submitted["applicant"])  # fmt: skip
    service.resubmit_application(
        application, sections=submitted["sections"], by=submitted["applicant"], actor="applicant"
    )
    service.resubmit_application(
        application, sections=submitted["sections"], by=submitted["applicant"], actor="applicant"
    )
    application.refresh_from_db()
    assert application.status == S.RESUBMITTED
    versions = list(ApplicationVersion.objects.filter(application=application))
    assert [v.number for v in versions] == [1, 2]
    changes = service.compare_versions(versions[0], versions[1])
    assert changes == [{"key": "demo-a2", "before": "Two lawyers on call for detentions.",
                        "after": "Lawyers: 100 h in March, 60 h in April."}]  # fmt: skip
    assert application.information_requests.get().answered_at is not None


def test_request_needs_a_message(submitted):
    service.start_screening(submitted["application"], by=submitted["officer"])
    with pytest.raises(ApplicationError):
        service.request_more_information(
            submitted["application"], by=submitted["officer"], message="  ", question_ids=[]
        )


# --- Decisions -------------------------------------------------------------------------------


def test_approve_up_to_the_requested_amount_unless_confirmed(submitted, django_capture_on_commit_callbacks):
    application, officer = submitted["application"], submitted["officer"]
    service.start_screening(application, by=officer)
    with pytest.raises(ApplicationError):
        service.approve_application(application, by=officer, amount=Money(6000, "USD"))
    with pytest.raises(ApplicationError):
        service.approve_application(application, by=officer, amount=Money(100, "EUR"))
    application.refresh_from_db()
    assert application.status == S.SCREENING
    with django_capture_on_commit_callbacks(execute=True):
        service.approve_application(
            application, by=officer, amount=Money(6000, "USD"), confirm_over_requested=True
        )
    application.refresh_from_db()
    assert (application.status, application.award_amount, application.decided_by) == (
        S.APPROVED,
        Money(6000, "USD"),
        officer,
    )
    assert any(m.subject.startswith("Buenas noticias") or "approved" in m.subject for m in mail.outbox)


def test_officer_with_a_declared_conflict_cannot_decide(submitted):
    application, officer = submitted["application"], submitted["officer"]
    (assignment,) = service.assign_reviewers([application], [officer], by=officer)
    service.declare_conflict(assignment, by=officer, has_conflict=True, note="Board member")
    service.start_screening(application, by=_staff(submitted["foundation"], Role.PROGRAM_OFFICER))
    with pytest.raises(IllegalTransition):
        service.decline_application(application, by=officer, reason="No")
    with pytest.raises(IllegalTransition):
        service.approve_application(application, by=officer, amount=Money(1000, "USD"))


def test_decline_needs_a_reason_and_batch_reports_refusals(submitted):
    application, officer = submitted["application"], submitted["officer"]
    with pytest.raises(ApplicationError):
        service.decline_application(application, by=officer, reason="")
    withdrawn_app, sections = _draft({**submitted, "organization": _second_org(submitted)})
    app_service.submit_application(
        withdrawn_app, sections=sections, by=submitted["applicant"], actor="applicant"
    )
    app_service.withdraw_application(withdrawn_app, by=submitted["applicant"], actor="applicant")
    decided, refused = service.decide_batch([application, withdrawn_app], by=officer, decision="decline",
                                            reason_by_language={"en": "Funds are exhausted.", "es": "Se agotaron los fondos."})  # fmt: skip
    assert [a.pk for a in decided] == [application.pk]
    assert [a.pk for a, _msg in refused] == [withdrawn_app.pk]
    application.refresh_from_db()
    assert application.decision_reason == "Funds are exhausted."


def test_internal_comments_stay_internal(submitted):
    application = submitted["application"]
    service.add_comment(
        application, by=submitted["officer"], text="Strong partner", shared_with_applicant=False
    )
    service.add_comment(
        application, by=submitted["officer"], text="Thanks for applying", shared_with_applicant=True
    )
    shared = ActivityEntry.objects.filter(action="comment", visible_to_applicant=True).values_list(
        "note", flat=True
    )
    assert list(shared) == ["Thanks for applying"]
    with pytest.raises(IllegalTransition):
        service.add_comment(application, by=submitted["reviewer"], text="hi", shared_with_applicant=False)


def test_rapid_response_call_sets_a_decision_target(setup):  # noqa: F811
    call = setup["call"]
    call.rapid_response, call.decision_target_hours = True, 48
    call.save()
    application, sections = _draft(setup)
    app_service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    application.refresh_from_db()
    assert (application.decision_due_at - application.submitted_at).total_seconds() == 48 * 3600


def test_split_sections_is_deterministic(setup):  # noqa: F811
    questions = setup["page"].get_questions()
    assert [s.heading for s in split_sections(questions, "About")] == [
        "About",
        "About your group",
        "Budget and documents",
    ]


def test_the_migration_counts_the_recommendations_of_reviews_submitted_before_it(submitted):
    """Migration 0018 stores the counts the list used to compute per row, from the reviews."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("grants.migrations.0018_application_recommendation_counts")
    first = _reviewing(submitted)
    second = _reviewing(submitted, _staff(submitted["foundation"], Role.REVIEWER))
    for assignment, recommendation, submit in ((first, "do_not_fund", True), (second, "fund", False)):
        service.save_review(assignment, by=assignment.reviewer, rubric=RUBRIC, recommendation=recommendation,
                            submit=submit, scores={"impact": {"score": 2}, "feasible": {"score": 2}})  # fmt: skip
    Application.objects.update(fund_count=0, maybe_count=0, do_not_fund_count=0)  # as before the migration
    migration.count_recommendations(apps, None)
    application = Application.objects.get(pk=submitted["application"].pk)
    assert (application.fund_count, application.maybe_count, application.do_not_fund_count) == (0, 0, 1)
