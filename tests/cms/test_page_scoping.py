"""Officers edit only their own foundation's pages in Wagtail admin, and the page editor offers
only their section's funds and their fund's calls."""

import pytest
from django.core.exceptions import ValidationError
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from cms.models import FoundationPage, FundPage, StandardPage
from cms.sections import ensure_foundation_section
from grants.models import Role
from grants.services.staff import add_staff
from tests import pages
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory, UserFactory
from tests.sections import into_section


@pytest.fixture
def tree(site):
    mine, theirs = FoundationFactory(), FoundationFactory()
    officer = UserFactory(is_staff=True)
    add_staff(officer, foundation=mine, role=Role.PROGRAM_OFFICER)
    result = {"officer": officer}
    for key, foundation in (("mine", mine), ("theirs", theirs)):
        fund = FundFactory(foundation=foundation)
        fund_pages = pages.add_fund_page(site, fund)
        call_pages = pages.add_call_page(fund_pages, FundingCallFactory(fund=fund))
        into_section(fund_pages, foundation)
        result[key] = (fund_pages[0], call_pages[0])
    return result


@pytest.mark.parametrize("index", [0, 1])
def test_officer_edits_own_pages_but_not_another_foundations(client, tree, index):
    client.force_login(tree["officer"])
    assert client.get(f"/admin/pages/{tree['mine'][index].pk}/edit/").status_code == 200
    assert client.get(f"/admin/pages/{tree['theirs'][index].pk}/edit/", follow=True).status_code == 404
    theirs = tree["theirs"][index]
    client.post(f"/admin/pages/{theirs.pk}/delete/")
    client.post(f"/admin/pages/{theirs.pk}/unpublish/")
    theirs.refresh_from_db()
    assert theirs.live


def test_officer_cannot_add_a_call_under_another_foundations_fund(client, tree):
    client.force_login(tree["officer"])
    theirs_fund_page = tree["theirs"][0]
    mine_fund_page = tree["mine"][0]
    assert client.get(f"/admin/pages/add/cms/fundingcallpage/{mine_fund_page.pk}/").status_code == 200
    response = client.get(f"/admin/pages/add/cms/fundingcallpage/{theirs_fund_page.pk}/", follow=True)
    assert response.status_code == 404


def _draft(page, title):
    page = page.specific
    page.title = title
    return page.save_revision()


@pytest.mark.parametrize("index", [0, 1])
def test_another_foundations_unpublished_draft_revisions_and_history_are_not_found(client, tree, index):
    client.force_login(tree["officer"])
    secret = "Fondo todavía sin anunciar"
    views = [
        "view_draft/",
        "revisions/{revision}/view/",
        "revisions/compare/earliest...{revision}/",
        "history/",
        "workflow_history/",
        "revisions/{revision}/unschedule/",
    ]
    for key in ("mine", "theirs"):
        page = tree[key][index]
        revision = _draft(page, f"{secret} ({key})")
        for view in views:
            # follow: a 404 under /admin/ first goes by the language-prefixed path
            response = client.get(f"/admin/pages/{page.pk}/{view.format(revision=revision.pk)}", follow=True)
            body = response.content.decode()
            if key == "mine":
                assert response.status_code == 200, view
            else:
                assert response.status_code == 404, view
                assert secret not in body, view
    mine_draft = client.get(f"/admin/pages/{tree['mine'][index].pk}/view_draft/").content.decode()
    assert f"{secret} (mine)" in mine_draft


# --- The editor offers only the section's funds and the fund's calls ------------------------------


@pytest.fixture
def two_sections(site):
    """Foundations A and B, each with a section, two funds and calls; an officer of each."""
    result = {}
    for key, name in (("a", "Alpha Foundation"), ("b", "Beta Foundation")):
        foundation = FoundationFactory(name=name)
        officer = UserFactory(is_staff=True)
        add_staff(officer, foundation=foundation, role=Role.PROGRAM_OFFICER)
        funds = [
            FundFactory(foundation=foundation, name=f"{name} Bail Fund"),
            FundFactory(foundation=foundation, name=f"{name} Hotline Fund"),
        ]
        fund_pages = pages.add_fund_page(site, funds[0])
        open_call = FundingCallFactory(fund=funds[0], title=f"{name} open call")
        sibling_call = FundingCallFactory(fund=funds[1], title=f"{name} other fund's call")
        result[key] = {
            "foundation": foundation,
            "officer": officer,
            "funds": funds,
            "calls": [open_call, sibling_call],
            "section": ensure_foundation_section(foundation)["en"],
            "fund_page": fund_pages[0],
        }
    return result


def _fund_page_data(fund, slug="new-fund-page"):
    return nested_form_data(
        {
            "title": "A new fund page",
            "slug": slug,
            "fund": fund.pk,
            "summary": "What it pays for.",
            "body": rich_text("<p>Description</p>"),
            "comments": inline_formset([]),
            "action-publish": "publish",
        }
    )


def _choices(response, field: str) -> set[int]:
    return {pk for pk, _label in response.context["form"].fields[field].choices if pk}


def test_the_fund_page_form_offers_only_the_sections_foundations_funds(client, two_sections):
    a = two_sections["a"]
    client.force_login(a["officer"])
    response = client.get(f"/admin/pages/add/cms/fundpage/{a['section'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert {int(str(pk)) for pk in _choices(response, "fund")} == {fund.pk for fund in a["funds"]}
    assert "Alpha Foundation Hotline Fund" in html
    assert "Beta Foundation" not in html
    # Editing an existing fund page offers the same.
    response = client.get(f"/admin/pages/{a['fund_page'].pk}/edit/")
    assert {int(str(pk)) for pk in _choices(response, "fund")} == {fund.pk for fund in a["funds"]}


def test_a_forged_post_with_another_foundations_fund_is_refused_and_nothing_is_made(client, two_sections):
    a, b = two_sections["a"], two_sections["b"]
    client.force_login(a["officer"])
    before = FundPage.objects.count()
    response = client.post(
        f"/admin/pages/add/cms/fundpage/{a['section'].pk}/", _fund_page_data(b["funds"][1])
    )
    assert response.status_code == 200
    assert response.context["form"].errors["fund"]
    assert "Beta Foundation" not in response.content.decode()
    assert FundPage.objects.count() == before
    assert not FundPage.objects.filter(fund=b["funds"][1]).exists()
    # The same request with their own fund makes the page, in their section.
    response = client.post(
        f"/admin/pages/add/cms/fundpage/{a['section'].pk}/", _fund_page_data(a["funds"][1])
    )
    assert response.status_code == 302
    made = FundPage.objects.get(fund=a["funds"][1])
    assert made.get_parent().pk == a["section"].pk and made.live


def test_a_fund_page_of_another_foundations_fund_cannot_be_saved_in_a_section(two_sections):
    a, b = two_sections["a"], two_sections["b"]
    page = FundPage(title="Wrong", slug="wrong", fund=b["funds"][1], summary="x")
    with pytest.raises(ValidationError) as refused:
        a["section"].add_child(instance=page)
    assert "fund" in refused.value.message_dict
    assert not FundPage.objects.filter(slug="wrong").exists()


def test_the_call_page_form_offers_only_the_calls_of_the_parent_pages_fund(client, two_sections):
    a = two_sections["a"]
    client.force_login(a["officer"])
    response = client.get(f"/admin/pages/add/cms/fundingcallpage/{a['fund_page'].pk}/")
    assert response.status_code == 200
    assert {int(str(pk)) for pk in _choices(response, "funding_call")} == {a["calls"][0].pk}
    html = response.content.decode()
    assert "Alpha Foundation other fund's call" not in html and "Beta Foundation" not in html


def test_a_section_is_never_made_nor_handed_to_another_foundation_in_the_editor(client, two_sections, site):
    a = two_sections["a"]
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get(f"/admin/pages/{a['section'].pk}/edit/")
    assert response.status_code == 200
    assert "foundation" not in response.context["form"].fields
    # Wagtail refuses to add a page type that is not creatable: back to the dashboard, nothing made.
    sections = FoundationPage.objects.count()
    refused = client.get(f"/admin/pages/add/cms/foundationpage/{site['home'].pk}/")
    assert refused.status_code == 302 and refused.url == "/admin/"
    assert FoundationPage.objects.count() == sections


def test_a_foundations_own_standard_page_is_not_found_by_another_foundations_officer(client, two_sections):
    a, b = two_sections["a"], two_sections["b"]
    about = pages.publish(a["section"].add_child(instance=StandardPage(title="About Alpha", slug="about")))
    client.force_login(b["officer"])
    assert client.get(f"/admin/pages/{about.pk}/edit/", follow=True).status_code == 404
    assert client.get(f"/admin/pages/add/cms/standardpage/{a['section'].pk}/", follow=True).status_code == 404
    client.post(f"/admin/pages/{about.pk}/unpublish/")
    about.refresh_from_db()
    assert about.live
    client.force_login(a["officer"])
    assert client.get(f"/admin/pages/{about.pk}/edit/").status_code == 200
