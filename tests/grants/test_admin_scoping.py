"""Foundations, funds and funding calls in admin: staff see and open only their own foundation's."""

import pytest

from grants.models import Role
from grants.services.staff import add_staff
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory, UserFactory


@pytest.fixture
def two_foundations(db):
    mine, theirs = FoundationFactory(name="Mine Foundation"), FoundationFactory(name="Theirs Foundation")
    officer = UserFactory(is_staff=True)
    add_staff(officer, foundation=mine, role=Role.PROGRAM_OFFICER)
    add_staff(officer, foundation=mine, role=Role.FOUNDATION_ADMIN)
    return {
        "officer": officer,
        "mine": (mine, FundFactory(foundation=mine, name="Mine Fund"), FundingCallFactory(fund__foundation=mine, title="Mine Call")),
        "theirs": (theirs, FundFactory(foundation=theirs, name="Theirs Fund"), FundingCallFactory(fund__foundation=theirs, title="Theirs Call")),
    }  # fmt: skip


@pytest.mark.parametrize(("prefix", "index"), [("foundations", 0), ("funds", 1), ("calls", 2)])
def test_lists_show_only_own_foundation(client, two_foundations, prefix, index):
    client.force_login(two_foundations["officer"])
    html = client.get(f"/admin/{prefix}/").content.decode()
    assert str(two_foundations["mine"][index]) in html
    assert str(two_foundations["theirs"][index]) not in html


@pytest.mark.parametrize(("prefix", "index", "view"), [
    ("foundations", 0, "edit"), ("funds", 1, "edit"), ("calls", 2, "edit"),
    ("funds", 1, "delete"), ("calls", 2, "delete"), ("funds", 1, "history"),
])  # fmt: skip
def test_another_foundations_rows_are_404(client, two_foundations, prefix, index, view):
    client.force_login(two_foundations["officer"])
    theirs = two_foundations["theirs"][index]
    mine = two_foundations["mine"][index]
    assert client.get(f"/admin/{prefix}/{view}/{theirs.pk}/", follow=True).status_code == 404
    assert client.get(f"/admin/{prefix}/{view}/{mine.pk}/").status_code in (200, 302)


def test_another_foundations_call_cannot_be_changed_by_post(client, two_foundations):
    client.force_login(two_foundations["officer"])
    call = two_foundations["theirs"][2]
    client.post(f"/admin/calls/edit/{call.pk}/", {"title": "Hijacked"})
    call.refresh_from_db()
    assert call.title == "Theirs Call"
