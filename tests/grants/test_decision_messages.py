"""Decision messages in every language: written side by side, marked when a translation is
missing, sent in the applicant's language with a fallback, and moved over from the two fixed
columns by a migration that can go back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from grants.models import Application, ApplicationStatus, DecisionMessage, Role
from tests.factories import FoundationFactory
from tests.grants.money_fixtures import staff
from tests.grants.test_admin_reviews import DECLINE_EN, DECLINE_ES, action, build, set_status, submit_new

BEFORE = [("grants", "0030_foundation_groups")]
AFTER = [("grants", "0031_decision_messages_in_every_language")]


@pytest.fixture
def data(site):
    return build(site)


def test_a_message_reads_in_each_language_and_falls_back_to_the_source(db):
    foundation = FoundationFactory()
    both = DecisionMessage.objects.create(foundation=foundation, title="Spent", body=DECLINE_EN,
                                          translations={"es": {"body": DECLINE_ES}})  # fmt: skip
    english_only = DecisionMessage.objects.create(foundation=foundation, title="Late", body="Sent too late.")

    assert both.text_for("es") == DECLINE_ES and both.text_for("en") == DECLINE_EN
    assert english_only.text_for("es") == "Sent too late."
    assert english_only.texts_by_language() == {"en": "Sent too late.", "es": "Sent too late."}


def test_an_untranslated_message_reaches_a_spanish_applicant_in_english(data, client):
    template = DecisionMessage.objects.create(
        foundation=data["foundation"], title="Late", body="Sent too late."
    )
    client.force_login(data["officer"])

    response = action(client, data["application"], "decline", {"template": template.pk, "reason": ""})

    assert response.status_code == 302
    data["application"].refresh_from_db()
    assert data["application"].status == ApplicationStatus.DECLINED
    assert data["application"].decision_reason == "Sent too late."


def test_batch_decline_falls_back_for_a_language_not_written(data, client):
    template = DecisionMessage.objects.create(foundation=data["foundation"], title="Late", body="",
                                              translations={"es": {"body": DECLINE_ES}})  # fmt: skip
    english = submit_new(data, name="English group", language="en")
    for application in (data["application"], english):
        set_status(application, ApplicationStatus.IN_REVIEW)
    client.force_login(data["officer"])

    client.post("/admin/applications/batch/", {
        "applications": [data["application"].pk, english.pk], "action": "decline", "template": template.pk})  # fmt: skip

    assert Application.objects.get(pk=data["application"].pk).decision_reason == DECLINE_ES
    assert Application.objects.get(pk=english.pk).decision_reason == DECLINE_ES  # the only text written


@pytest.mark.parametrize(("language", "marker"), [("en", "Not translated yet"), ("es", "Aún sin traducir")])
def test_staff_write_the_message_side_by_side_and_see_what_is_missing(client, db, language, marker):
    foundation = FoundationFactory(slug="bay")
    officer = staff(foundation, Role.FOUNDATION_ADMIN)
    message = DecisionMessage.objects.create(foundation=foundation, title="Spent", body=DECLINE_EN)
    client.force_login(officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language

    assert marker in client.get("/admin/decision-messages/").content.decode()
    form = client.get(f"/admin/decision-messages/edit/{message.pk}/").content.decode()
    assert 'name="body"' in form and 'name="body_es"' in form and marker in form
    label = {"en": "Message (Spanish)", "es": "Mensaje (Español)"}[
        language
    ]  # labels in the reader's language
    assert label in form

    response = client.post(f"/admin/decision-messages/edit/{message.pk}/", {
        "foundation": foundation.pk, "kind": "decline", "title": "Spent", "body": DECLINE_EN,
        "body_es": DECLINE_ES})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    message.refresh_from_db()
    assert message.translations == {"es": {"body": DECLINE_ES}}
    assert marker not in client.get("/admin/decision-messages/").content.decode()

    created = client.post("/admin/decision-messages/new/", {
        "foundation": foundation.pk, "kind": "decline", "title": "Late", "body": "", "body_es": "Tarde."})  # fmt: skip
    assert created.status_code == 200  # the source language's text is required
    assert not DecisionMessage.objects.filter(title="Late").exists()


def test_another_foundations_message_cannot_be_translated(client, db):
    message = DecisionMessage.objects.create(foundation=FoundationFactory(), title="Spent", body=DECLINE_EN)
    officer = staff(FoundationFactory(slug="other"), Role.FOUNDATION_ADMIN)
    client.force_login(officer)

    response = client.post(f"/admin/decision-messages/edit/{message.pk}/", {
        "foundation": message.foundation_id, "kind": "decline", "title": "Spent", "body": "Stolen",
        "body_es": "Robado"}, follow=True)  # fmt: skip

    assert response.status_code == 404
    message.refresh_from_db()
    assert message.body == DECLINE_EN and message.translations == {}


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_both_texts_and_back():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    Foundation = old_apps.get_model("grants", "Foundation")
    OldMessage = old_apps.get_model("grants", "DecisionMessage")
    foundation = Foundation.objects.create(name="Bay", slug="bay", legal_name="Bay", default_currency="USD")
    both = OldMessage.objects.create(
        foundation=foundation, title="Spent", text_en=DECLINE_EN, text_es=DECLINE_ES
    )
    blank_es = OldMessage.objects.create(
        foundation=foundation, title="Late", text_en="Too late.", text_es="  "
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new_apps = executor.loader.project_state(AFTER).apps
    Message = new_apps.get_model("grants", "DecisionMessage")
    moved = Message.objects.get(pk=both.pk)
    assert moved.body == DECLINE_EN and moved.translations == {"es": {"body": DECLINE_ES}}
    assert Message.objects.get(pk=blank_es.pk).translations == {}
    Message.objects.filter(pk=blank_es.pk).update(body="", translations={"es": {"body": "Tarde."}})

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(BEFORE)
    OldMessage = executor.loader.project_state(BEFORE).apps.get_model("grants", "DecisionMessage")
    back = OldMessage.objects.get(pk=both.pk)
    assert (back.text_en, back.text_es) == (DECLINE_EN, DECLINE_ES)
    only_spanish = OldMessage.objects.get(pk=blank_es.pk)
    assert (only_spanish.text_en, only_spanish.text_es) == ("Tarde.", "Tarde.")  # both columns were required

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)
    again = DecisionMessage.objects.get(pk=both.pk)
    assert again.body == DECLINE_EN and again.text_for("es") == DECLINE_ES
