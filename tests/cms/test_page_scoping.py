"""Officers edit only their own foundation's fund and call pages in Wagtail admin (the pages sit in
their foundations' sections, where page permissions are held)."""

import pytest

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
