"""Every text a person types has a limit the server enforces (a translated message, what was typed
kept, never a 500 nor a silent cut), shown before they reach it ("Up to 200 characters." and the
``maxlength`` attribute)."""

import datetime
import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.utils import translation

import cms
import grants
from grants.forms.limits import TextLimits, is_typed_text, length_hint
from grants.forms.reports import ReportForm
from grants.questions import Question, Section
from grants.services import answers
from grants.services import reports as report_service
from tests.grants.money_fixtures import usd
from tests.grants.report_helpers import reporting_award, spend

# Fields whose length is not the person's to choose: (module, form, field) → why.
EXEMPT = {
    ("grants.forms.mfa", "AuthenticateForm", "code"): "allauth's six-digit code, checked as a whole",
}


def _project_forms() -> list[type[forms.BaseForm]]:
    for package in (grants, cms):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = {
        cls
        for cls in subclasses(forms.BaseForm)
        if cls.__module__.startswith(("grants.", "cms.")) and "<locals>" not in cls.__qualname__
    }
    return sorted(found, key=lambda cls: (cls.__module__, cls.__name__))


PROJECT_FORMS = _project_forms()


def _text_fields(fields) -> dict:
    return {name: field for name, field in fields.items() if is_typed_text(field)}


def test_the_walk_finds_the_portals_forms():
    names = {cls.__name__ for cls in PROJECT_FORMS}
    assert {"IntakeForm", "OrganizationForm", "ReportForm", "SectionForm", "DonationForm", "CommentForm",
            "AwardTermsForm", "SignupForm", "AddFoundationForm", "OfflineGiftForm"} <= names  # fmt: skip


@pytest.mark.parametrize("form_class", PROJECT_FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_text_field_has_a_limit_and_shows_it(form_class):
    """The form as built (when it needs no arguments of its own, such as a user or a section),
    else its declared fields: every text has a max_length, a hint and the maxlength attribute."""
    try:
        form = form_class()
    except (TypeError, KeyError, ValueError):  # needs arguments (a user, a model, a section…)
        form = None
    fields = _text_fields(form.fields if form is not None else form_class.base_fields)
    fields = {name: field for name, field in fields.items()
              if (form_class.__module__, form_class.__name__, name) not in EXEMPT}  # fmt: skip
    for name, field in fields.items():
        assert field.max_length is not None, f"{form_class.__name__}.{name} has no max_length"
    if not fields:
        return
    assert issubclass(form_class, TextLimits), f"{form_class.__name__} does not show its limits"
    if form is None:
        return
    for name, field in fields.items():
        if isinstance(field, forms.EmailField):
            continue
        assert str(length_hint(field.max_length)) in str(field.help_text), name
        assert form[name].as_widget().count(f'maxlength="{field.max_length}"') == 1, name


def test_fields_added_after_the_form_is_built_show_their_limits_too():
    form = ReportForm(
        metric_definitions=[{"key": "people", "label": "People", "kind": "number"}],
        explain=[(0, "Legal fees")],
    )
    from grants.forms.amounts import NumberField

    # A figure is a number read the reader's way, bounded by its size, not a length.
    assert isinstance(form.fields["metric_people"], NumberField)
    for name in ("narrative", "explanation_0"):
        field = form.fields[name]
        assert str(length_hint(field.max_length)) in str(field.help_text), name
        assert f'maxlength="{field.max_length}"' in form[name].as_widget()


def test_an_application_step_shows_characters_for_short_answers_and_words_for_long_ones():
    section = Section(number=2, heading="About", help_text="", questions=(
        Question.from_dict({"id": "who", "type": "short_text", "label": "Who", "max_length": 120}),
        Question.from_dict({"id": "story", "type": "long_text", "label": "Story", "word_limit": 250}),
    ))  # fmt: skip
    form = answers.SectionForm(section=section, currency="USD", draft=True)
    short, long = form.fields["q_who"], form.fields["q_story"]
    assert "Up to 120 characters." in str(short.help_text) and 'maxlength="120"' in form["q_who"].as_widget()
    assert "Up to 250 words." in str(long.help_text) and "characters" not in str(long.help_text)
    assert long.max_length == 250 * answers.CHARACTERS_PER_WORD  # a backstop on the server


def test_a_long_answer_of_one_endless_word_is_refused_not_stored():
    section = Section(number=2, heading="About", help_text="", questions=(
        Question.from_dict({"id": "story", "type": "long_text", "label": "Story", "word_limit": 10}),
    ))  # fmt: skip
    form = answers.SectionForm({"q_story": "a" * 10_000}, section=section, currency="USD", draft=True)
    assert not form.is_valid() and "q_story" in form.errors


def test_the_hint_is_in_the_readers_language():
    with translation.override("es"):
        assert str(length_hint(200)) == "Hasta 200 caracteres."


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "message"), [("en", "at most 10000 characters"),
                                                   ("es", "10000 caracteres")])  # fmt: skip
def test_an_over_long_report_is_refused_and_keeps_what_was_typed(world, client, language, message):
    award = reporting_award(world)
    due = award.report_due_dates.get(kind="interim")
    report = report_service.report_for(due, by=world["grantee"])
    spend(report, world, 500)
    client.force_login(world["grantee"])
    typed = "Representamos a doce personas. " + "x" * 10_000
    response = client.post(f"/{language}/reports/{due.pk}/", {"action": "save", "narrative": typed})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert typed in html  # kept, to be shortened
    report.refresh_from_db()
    assert report.narrative == ""


@pytest.mark.django_db
def test_an_over_long_group_name_in_the_intake_form_is_refused_and_kept(world, client):
    from tests.grants.money_fixtures import approved

    call = approved(world).call
    client.force_login(world["officer"])
    name = "Grupo " + "muy " * 60
    response = client.post("/admin/applications/intake/", {
        "call": call.pk, "channel": "phone", "language": "es", "name": name, "region_served": "Kern",
        "legal_status": "unincorporated",
    })  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert "at most 200 characters" in html and name.strip() in html
    assert "Up to 200 characters." in html and 'maxlength="200"' in html


def test_no_project_form_cuts_text_silently():
    """A typed text is never shortened with a slice before it is stored: the form refuses it."""
    source = inspect.getsource(importlib.import_module("grants.services.awards"))
    assert "full_name[:" not in source


# --- Texts typed outside a form class: a reason, a note ----------------------------------------


@pytest.mark.django_db
def test_an_over_long_decline_reason_is_refused_and_kept(world, client):
    from grants.models import Award, AwardStatus
    from tests.grants.money_fixtures import award_for, fund_with

    fund_with(world, 5000)
    award = award_for(world, 1000)
    client.force_login(world["grantee"])
    page = client.get(f"/en/awards/{award.pk}/decline/").content.decode()
    assert 'maxlength="2000"' in page and "Up to 2000 characters." in page
    reason = "Ya no podemos. " * 200
    response = client.post(f"/es/awards/{award.pk}/decline/", {"reason": reason})
    assert response.status_code == 400
    html = response.content.decode()
    assert "como máximo 2000 caracteres" in html and reason.strip() in html
    assert Award.objects.get(pk=award.pk).status == AwardStatus.OFFERED
    assert client.post(f"/es/awards/{award.pk}/decline/", {"reason": "x" * 2000}).status_code == 302
    assert Award.objects.get(pk=award.pk).closing_note == "x" * 2000


@pytest.mark.django_db
def test_an_over_long_withdrawal_note_is_refused_and_kept(world, client):
    from grants.models import ApplicationStatus
    from grants.services import applications as application_service
    from tests.grants.money_fixtures import approved

    call = approved(world).call
    draft = application_service.start_application(call=call, organization=world["organization"],
                                                  by=world["grantee"], language="en")  # fmt: skip
    client.force_login(world["grantee"])
    note = "We found other money. " * 60
    response = client.post(f"/en/applications/{draft.pk}/withdraw/", {"note": note})
    assert response.status_code == 400
    html = response.content.decode()
    assert "at most 1000 characters" in html and note.strip() in html and "Up to 1000 characters." in html
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT


@pytest.mark.django_db
def test_an_over_long_void_reason_is_refused_not_cut(world):
    from grants.services import offline_gifts
    from grants.services.text_limits import TextTooLong

    gift = offline_gifts.record_offline_gift(
        fund=world["fund"], donor_name="María", donor_email="maria@example.org", amount=usd(50), channel="check",
        received_on=datetime.date(2026, 1, 5), reference="CHK 1", by=world["finance"],
    )  # fmt: skip
    with pytest.raises(TextTooLong):
        offline_gifts.void_gift(gift, by=world["finance"], reason="r" * 301)
    gift.refresh_from_db()
    assert gift.status != "voided"
