"""A call's criteria, weights and questions are the call's, in every language: a Spanish page
only supplies the words. A reviewer's or applicant's language never changes what is scored or
asked."""

import json
from decimal import Decimal

import pytest
from wagtail.users.models import UserProfile

from cms.models import report_metrics
from grants.demo_questions import questions_json
from grants.models import Review, ReviewAssignment
from grants.services import reviews as review_service
from tests import pages
from tests.grants.test_admin_reviews import RUBRIC, S, build, rubric_json, set_status


def _criterion(cid, label, weight):
    return {"type": "criterion", "id": cid, "value": {"label": label, "weight": weight, "guidance": ""}}


@pytest.fixture
def call(site):
    """The review fixture's call, then a criterion added on the English page only and the weights
    changed on the Spanish page (a translation drifting from its source)."""
    data = build(site)
    page = data["page"]
    page.rubric = json.dumps(
        json.loads(rubric_json("en")) + [_criterion("crit-reach", "Reach of the work", "3")]
    )
    pages.publish(page)
    spanish = page.get_translation(pages.locales()["es"]).specific
    spanish.rubric = json.dumps([_criterion(cid, labels[1], "9") for cid, labels, _weight in RUBRIC])
    pages.publish(spanish)
    data["page_es"] = spanish
    set_status(data["application"], S.IN_REVIEW)
    review_service.assign_reviewers(
        [data["application"]], [data["reviewer"], data["reviewer2"]], by=data["officer"]
    )
    for reviewer in (data["reviewer"], data["reviewer2"]):
        review_service.declare_conflict(
            ReviewAssignment.objects.get(reviewer=reviewer), by=reviewer, has_conflict=False
        )
    profile = UserProfile.get_for_user(data["reviewer2"])
    profile.preferred_language = "es"
    profile.save()
    return data


def test_both_pages_give_the_source_criteria_and_weights_in_their_own_words(call):
    english, spanish = call["page"].get_rubric(), call["page_es"].get_rubric()

    assert [(c["id"], c["weight"]) for c in spanish] == [(c["id"], c["weight"]) for c in english] == [
        ("crit-need", "2"), ("crit-plan", "1"), ("crit-reach", "3")
    ]  # fmt: skip
    assert [(c["label"], c["untranslated"]) for c in spanish] == [
        ("Necesidad en la comunidad", False), ("Solidez del plan", False), ("Reach of the work", True)
    ]  # fmt: skip
    assert not any(c["untranslated"] for c in english)


def test_a_spanish_and_an_english_reviewer_score_the_same_criteria_with_the_same_weights(call, client):
    pk = call["application"].pk
    scores = {"score-crit-need": "4", "score-crit-plan": "1", "score-crit-reach": "2", "recommendation": "fund",
              "action": "submit"}  # fmt: skip

    client.force_login(call["reviewer2"])  # Spanish admin
    html = client.get(f"/admin/reviews/{pk}/").content.decode()
    assert "Necesidad en la comunidad" in html and "Reach of the work" in html
    assert html.count("aún sin traducir") == 1
    assert 'name="score-overall"' not in html and "Valoración general" not in html and "Overall" not in html
    client.post(f"/admin/reviews/{pk}/score/", scores)
    client.force_login(call["reviewer"])  # English admin
    html = client.get(f"/admin/reviews/{pk}/").content.decode()
    assert (
        "Need in the community" in html and "Reach of the work" in html and "not translated yet" not in html
    )
    client.post(f"/admin/reviews/{pk}/score/", scores)

    spanish, english = (
        Review.objects.get(assignment__reviewer=call[name]) for name in ("reviewer2", "reviewer")
    )
    assert [(c["id"], c["weight"]) for c in spanish.rubric] == [
        (c["id"], c["weight"]) for c in english.rubric
    ]
    assert spanish.weighted_score == english.weighted_score == Decimal("2.50")  # (4*2 + 1*1 + 2*3) / 6


def test_a_spanish_page_without_a_rubric_scores_the_english_criteria_not_a_lone_overall(call, client):
    call["page_es"].rubric = "[]"
    pages.publish(call["page_es"])
    client.force_login(call["reviewer2"])

    html = client.get(f"/admin/reviews/{call['application'].pk}/").content.decode()

    assert 'name="score-crit-need"' in html and 'name="score-crit-reach"' in html
    assert 'name="score-overall"' not in html
    assert html.count("aún sin traducir") == 3


def _drifted_questions(language):
    """The demo questions; English adds one at the end, Spanish makes the first one optional
    and drops a choice (its list can no longer be matched by position)."""
    blocks = json.loads(questions_json(language))
    if language == "en":
        blocks.append({"type": "short_text", "id": "new-q", "value": {
            "label": "Website of your group", "help_text": "", "required": True, "sensitive": False,
            "max_length": 200}})  # fmt: skip
    else:
        blocks[1]["value"]["required"] = False
        blocks[1]["value"]["word_limit"] = 5000
        blocks[3]["value"]["choices"] = ["Español", "Inglés"]
    return json.dumps(blocks)


@pytest.mark.parametrize("language", ["en", "es"])
def test_questions_are_the_sources_in_every_language(call, language):
    for page, code in ((call["page"], "en"), (call["page_es"], "es")):
        page.questions = _drifted_questions(code)
        pages.publish(page)
    english = call["page"].get_questions()
    page = call["page"] if language == "en" else call["page_es"]

    questions = page.get_questions()

    structure = ("id", "type", "required", "sensitive", "word_limit", "max_length", "max_size_mb")
    assert [[getattr(q, f) for f in structure] for q in questions] == [
        [getattr(q, f) for f in structure] for q in english
    ]
    by_id = {q.id: q for q in questions}
    assert by_id["demo-a2"].required is True and by_id["demo-a2"].word_limit == 300
    assert by_id["new-q"].label == "Website of your group"
    assert by_id["new-q"].untranslated is (language == "es")
    if language == "es":
        assert by_id["demo-a2"].label == "¿Para qué se usará el dinero?"
        assert by_id["demo-a4"].choices == ("Spanish", "English", "Mam", "Other")  # counts differ
        assert by_id["demo-b2"].categories[0] == "Honorarios legales"


def test_a_question_only_the_spanish_page_has_is_not_asked(call):
    blocks = json.loads(questions_json("es")) + [
        {"type": "yes_no", "id": "only-es", "value": {"label": "¿Extra?", "help_text": "", "required": True,
                                                     "sensitive": False}}
    ]  # fmt: skip
    call["page_es"].questions = json.dumps(blocks)
    pages.publish(call["page_es"])

    assert "only-es" not in {q.id for q in call["page_es"].get_questions()}


def test_eligibility_answers_and_metrics_follow_the_source(call):
    english, spanish = call["page"], call["page_es"]
    eligibility_es = [dict(block) for block in spanish.eligibility_questions.raw_data]
    eligibility_es[0]["value"] = {**eligibility_es[0]["value"], "eligible_answer": "no"}
    spanish.eligibility_questions = json.dumps(eligibility_es)
    english.report_metrics = json.dumps([
        {"type": "metric", "id": "m1", "value": {"key": "people", "label": "People", "kind": "number", "help_text": ""}},
        {"type": "metric", "id": "m2", "value": {"key": "hearings", "label": "Hearings", "kind": "number", "help_text": ""}},
    ])  # fmt: skip
    spanish.report_metrics = json.dumps([
        {"type": "metric", "id": "m1", "value": {"key": "people", "label": "Personas", "kind": "text", "help_text": ""}},
    ])  # fmt: skip
    pages.publish(english)
    pages.publish(spanish)

    assert [q.eligible_answer for q in spanish.get_eligibility_questions()] == [
        q.eligible_answer for q in english.get_eligibility_questions()
    ]
    assert spanish.get_eligibility_questions()[0].question.startswith("¿Su grupo")
    metrics = report_metrics(call["call"], "es")
    assert [(m["key"], m["kind"], m["label"], m["untranslated"]) for m in metrics] == [
        ("people", "number", "Personas", False), ("hearings", "number", "Hearings", True)
    ]  # fmt: skip
