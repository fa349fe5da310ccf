"""Each foundation's part of Wagtail is sealed: B's staff find nothing of A anywhere in the admin.

Foundation A's pages, image, document, fund and officer carry canary words ("Zephyrine …",
"Marchbank"); every admin screen B's staff can open is read for them. A's own officer gets the
same screens with A's things in them, so the canary tests cannot pass by showing nothing.
"""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from PIL import Image as PILImage
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.models import GroupCollectionPermission, GroupPagePermission, Page
from wagtail.search.backends import get_search_backend

from cms.models import FoundationPage, StandardPage
from grants.models import ROLE_GROUP_NAMES, FoundationRoleGroup, Role, StaffMembership
from grants.services.staff import add_staff, ensure_role_groups, sync_foundation_access
from tests import pages
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory, UserFactory
from tests.sections import into_section

# A's titles and its officer's name (searches ask for "Zephyrine", which an answer may repeat).
CANARIES = (
    "Zephyrine Foundation",
    "Zephyrine Defense Fund",
    "Zephyrine call",
    "Zephyrine about us",
    "Zephyrine poster",
    "Zephyrine guide",
    "Marchbank",
)
B_ROLES = (Role.PROGRAM_OFFICER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.FOUNDATION_ADMIN, Role.REVIEWER)


def _png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (2, 2), "white").save(buffer, "PNG")
    return buffer.getvalue()


def _staff(foundation, role, **names):
    user = UserFactory(is_staff=True, preferred_language="en", **names)
    add_staff(user, foundation=foundation, role=role)
    return user


@pytest.fixture
def scene(site):
    a = FoundationFactory(name="Zephyrine Foundation", slug="zephyrine")
    b = FoundationFactory(name="Valley Foundation", slug="valley")
    officer_a = _staff(a, Role.PROGRAM_OFFICER, first_name="Quillon", last_name="Marchbank")
    b_staff = {role: _staff(b, role) for role in B_ROLES}
    fund = FundFactory(foundation=a, name="Zephyrine Defense Fund", slug="zephyrine-fund")
    fund_pages = pages.add_fund_page(site, fund, title="Zephyrine Defense Fund")
    call_pages = pages.add_call_page(fund_pages, FundingCallFactory(fund=fund, title="Zephyrine call"))
    into_section(fund_pages, a)
    section_a = FoundationPage.objects.get(foundation=a, locale__language_code="en")
    about = section_a.add_child(instance=StandardPage(title="Zephyrine about us", slug="about-zephyrine"))
    # A's officer drafts, publishes and locks A's pages: their name lands in revisions and logs.
    pages.publish(about)
    revision = about.save_revision(user=officer_a)
    revision.publish(user=officer_a)
    fund_page = Page.objects.get(pk=fund_pages[0].pk).specific
    fund_page.locked, fund_page.locked_by = True, officer_a
    fund_page.save()
    image = Image.objects.create(
        title="Zephyrine poster",
        file=ContentFile(_png(), name="poster.png"),
        width=2,
        height=2,
        collection=a.collection,
        uploaded_by_user=officer_a,
    )
    document = Document.objects.create(
        title="Zephyrine guide",
        file=ContentFile(b"%PDF-1.4 guide", name="guide.pdf"),
        collection=a.collection,
        uploaded_by_user=officer_a,
    )
    a.refresh_from_db()
    # The test settings do not index on save; the searches below must have something to find.
    search = get_search_backend()
    for item in [*Page.objects.exclude(depth=1).specific(), image, document]:
        search.add(item)
    return {
        "a": a,
        "b": b,
        "officer_a": officer_a,
        "b_staff": b_staff,
        "section_a": section_a,
        "section_b": FoundationPage.objects.get(foundation=b, locale__language_code="en"),
        "fund_page": fund_page,
        "call_page": call_pages[0],
        "about": about,
        "image": image,
        "document": document,
        "site": site,
    }


# --- The groups and their permissions ---------------------------------------------------------


def test_each_role_at_each_foundation_has_its_group_with_permissions_on_its_section_only(scene):
    a, b = scene["a"], scene["b"]
    sections_a = set(FoundationPage.objects.filter(foundation=a).values_list("pk", flat=True))
    assert len(sections_a) == 2  # English and Spanish
    officers_a = Group.objects.get(name="Program officers · zephyrine")
    held = set(
        GroupPagePermission.objects.filter(group=officers_a).values_list("page_id", "permission__codename")
    )
    assert held == {
        (page, codename)
        for page in sections_a
        for codename in ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
    }
    assert scene["officer_a"].groups.filter(pk=officers_a.pk).exists()
    assert not scene["b_staff"][Role.PROGRAM_OFFICER].groups.filter(pk=officers_a.pk).exists()
    collection = set(
        GroupCollectionPermission.objects.filter(group=officers_a).values_list(
            "collection_id", "permission__codename"
        )
    )
    assert collection == {
        (a.collection_id, codename)
        for codename in (
            "add_image",
            "change_image",
            "choose_image",
            "add_document",
            "change_document",
            "choose_document",
        )
    }
    for role in (Role.FINANCE_OFFICER, Role.AUDITOR, Role.REVIEWER):
        group = FoundationRoleGroup.objects.get(foundation=b, role=role).group
        assert not GroupPagePermission.objects.filter(group=group).exists(), role
        assert scene["b_staff"][role].groups.filter(pk=group.pk).exists()
    auditors_b = FoundationRoleGroup.objects.get(foundation=b, role=Role.AUDITOR).group
    assert set(
        GroupCollectionPermission.objects.filter(group=auditors_b).values_list(
            "permission__codename", flat=True
        )
    ) == {
        "choose_image",
        "choose_document",
    }
    # The global role groups hold no page or collection permission at all (no more root access).
    for name in ROLE_GROUP_NAMES.values():
        assert not GroupPagePermission.objects.filter(group__name=name).exists()
        assert not GroupCollectionPermission.objects.filter(group__name=name).exists()
    assert a.collection.get_parent().is_root() and a.collection.name == "Zephyrine Foundation"


def test_running_the_sync_again_changes_nothing_and_repairs_drift(scene):
    a = scene["a"]
    before = sorted(GroupPagePermission.objects.values_list("group_id", "page_id", "permission_id"))
    officers_a = FoundationRoleGroup.objects.get(foundation=a, role=Role.PROGRAM_OFFICER).group
    # Drift: a stray permission at the root, a stranger in the group, an old root grant to a role group.
    GroupPagePermission.objects.create(
        group=officers_a,
        page=Page.get_first_root_node(),
        permission=GroupPagePermission.objects.first().permission,
    )
    stranger = UserFactory()
    officers_a.user_set.add(stranger)
    sync_foundation_access(a)
    sync_foundation_access(a)
    assert sorted(GroupPagePermission.objects.values_list("group_id", "page_id", "permission_id")) == before
    assert not officers_a.user_set.filter(pk=stranger.pk).exists()
    assert FoundationRoleGroup.objects.filter(foundation=a).count() == len(Role)
    assert FoundationPage.objects.filter(foundation=a).count() == 2
    collection_id = a.collection_id
    sync_foundation_access(a)
    a.refresh_from_db()
    assert a.collection_id == collection_id


def test_old_root_permissions_of_role_groups_are_removed(scene):
    groups = ensure_role_groups()
    officers = groups[Role.PROGRAM_OFFICER]
    GroupPagePermission.objects.create(
        group=officers,
        page=Page.get_first_root_node(),
        permission=GroupPagePermission.objects.first().permission,
    )
    ensure_role_groups()
    assert not GroupPagePermission.objects.filter(group=officers).exists()


def test_memberships_made_or_removed_keep_the_groups_in_step(scene):
    a = scene["a"]
    officer = scene["officer_a"]
    officers_a = FoundationRoleGroup.objects.get(foundation=a, role=Role.PROGRAM_OFFICER).group
    auditors_a = FoundationRoleGroup.objects.get(foundation=a, role=Role.AUDITOR).group
    membership = StaffMembership.objects.get(user=officer, foundation=a, role=Role.PROGRAM_OFFICER)
    StaffMembership.objects.create(user=officer, foundation=a, role=Role.AUDITOR)
    assert officer.groups.filter(pk=auditors_a.pk).exists()
    membership.delete()
    assert not officer.groups.filter(pk=officers_a.pk).exists()
    assert officer.groups.filter(pk=auditors_a.pk).exists()  # still an auditor there


def test_a_new_slug_renames_the_groups(scene):
    a = scene["a"]
    a.slug = "zephyrine-valley"
    a.save()
    sync_foundation_access(a)
    assert Group.objects.filter(name="Program officers · zephyrine-valley").exists()
    assert not Group.objects.filter(name="Program officers · zephyrine").exists()


# --- B's staff: nothing of A ------------------------------------------------------------------


def _a_urls(scene) -> dict[str, str]:
    """Admin URLs that name one of A's things: 404 (or Wagtail's refusal) for B's staff."""
    page, section, about = scene["fund_page"], scene["section_a"], scene["about"]
    revision = about.latest_revision_id
    return {
        "explore section": f"/admin/pages/{section.pk}/",
        "explore section results": f"/admin/pages/{section.pk}/results/",
        "edit": f"/admin/pages/{page.pk}/edit/",
        "edit section": f"/admin/pages/{section.pk}/edit/",
        "usage": f"/admin/pages/{page.pk}/usage/",
        "unpublish": f"/admin/pages/{page.pk}/unpublish/",
        "move": f"/admin/pages/{page.pk}/move/",
        "move confirm": f"/admin/pages/{page.pk}/move/{scene['section_b'].pk}/confirm/",
        "copy": f"/admin/pages/{page.pk}/copy/",
        "delete": f"/admin/pages/{page.pk}/delete/",
        "history": f"/admin/pages/{about.pk}/history/",
        "revisions": f"/admin/pages/{about.pk}/revisions/",
        "revision": f"/admin/pages/{about.pk}/revisions/{revision}/view/",
        "compare": f"/admin/pages/{about.pk}/revisions/compare/earliest...{revision}/",
        "workflow history": f"/admin/pages/{about.pk}/workflow_history/",
        "view draft": f"/admin/pages/{about.pk}/view_draft/",
        "add subpage": f"/admin/pages/{section.pk}/add_subpage/",
        "add": f"/admin/pages/add/cms/standardpage/{section.pk}/",
        "privacy": f"/admin/pages/{page.pk}/privacy/",
        "chooser browse": f"/admin/choose-page/{section.pk}/",
        "chooser chosen": f"/admin/choose-page/chosen-multiple/?id={page.pk}",
        "bulk delete": f"/admin/bulk/wagtailcore/page/delete/?id={page.pk}",
        "api page": f"/admin/api/main/pages/{page.pk}/",
    }


def _listings(scene) -> list[str]:
    """Admin listings and searches open to staff, where A's things must not show for B."""
    home = scene["site"]["home"]
    return [
        "/admin/",
        "/admin/pages/",
        f"/admin/pages/{home.pk}/",
        f"/admin/pages/{scene['site']['index'].pk}/",
        "/admin/pages/search/?q=Zephyrine",
        "/admin/pages/search/results/?q=Zephyrine",
        "/admin/pages/usage/cms/fundpage/",
        "/admin/pages/usage/cms/standardpage/",
        "/admin/choose-page/",
        f"/admin/choose-page/{home.pk}/",
        "/admin/choose-page/search/?q=Zephyrine",
        "/admin/reports/aging-pages/",
        "/admin/reports/locked/",
        "/admin/reports/page-types-usage/",
        "/admin/reports/workflow/",
        "/admin/reports/workflow_tasks/",
        "/admin/reports/site-history/",
        "/admin/images/",
        "/admin/images/?q=Zephyrine",
        "/admin/images/chooser/",
        "/admin/images/chooser/results/?q=Zephyrine",
        f"/admin/images/{scene['image'].pk}/",
        f"/admin/images/usage/{scene['image'].pk}/",
        f"/admin/images/chooser/chosen/{scene['image'].pk}/",
        f"/admin/images/chooser/{scene['image'].pk}/select_format/",
        "/admin/documents/",
        "/admin/documents/?q=Zephyrine",
        "/admin/documents/chooser/",
        "/admin/documents/chooser/results/?q=Zephyrine",
        f"/admin/documents/edit/{scene['document'].pk}/",
        f"/admin/documents/usage/{scene['document'].pk}/",
        f"/admin/documents/chooser/chosen/{scene['document'].pk}/",
        "/admin/collections/",
        f"/admin/collections/{scene['a'].collection_id}/",
        "/admin/api/main/pages/?search=Zephyrine",
        "/admin/api/main/pages/",
        f"/admin/api/main/pages/?child_of={scene['section_a'].pk}",  # 400: no such parent
    ]


def _body(response) -> str:
    return response.content.decode(errors="replace")


@pytest.mark.parametrize("role", B_ROLES)
def test_b_staff_find_nothing_of_a_in_wagtail_admin(client, scene, role):
    client.force_login(scene["b_staff"][role])
    for name, url in _a_urls(scene).items():
        # follow: a 404 under /admin/ first goes by the language-prefixed path; Wagtail's refusal
        # is a redirect to the dashboard.
        response = client.get(url, follow=True)
        refused = response.status_code == 200 and response.redirect_chain[-1:] == [("/admin/", 302)]
        assert response.status_code == 404 or refused, (name, response.status_code, response.redirect_chain)
        if role in (Role.PROGRAM_OFFICER, Role.FOUNDATION_ADMIN):
            # Editors hold page permissions (on B's section): A's page is 404, not a refusal.
            assert response.status_code == 404, name
        for canary in CANARIES:
            assert canary not in _body(response), (name, canary)
    for url in _listings(scene):
        response = client.get(url, follow=True)
        assert response.status_code in (200, 400, 403, 404), (url, response.status_code)
        for canary in CANARIES:
            assert canary not in _body(response), (url, canary)


def test_page_reports_are_for_platform_administrators(client, scene):
    client.force_login(scene["b_staff"][Role.PROGRAM_OFFICER])
    for report in ("aging-pages", "locked", "page-types-usage", "workflow", "workflow_tasks"):
        assert client.get(f"/admin/reports/{report}/", follow=True).status_code == 404, report
    menu = _body(client.get("/admin/"))
    assert "/admin/reports/aging-pages/" not in menu and "/admin/reports/locked/" not in menu
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    assert "Zephyrine" in _body(client.get("/admin/reports/page-types-usage/"))
    assert "Marchbank" in _body(client.get("/admin/reports/locked/"))


def test_b_officer_writes_to_a_change_nothing(client, scene):
    client.force_login(scene["b_staff"][Role.PROGRAM_OFFICER])
    about, fund_page, image = scene["about"], scene["fund_page"], scene["image"]
    assert (
        client.post(
            f"/admin/pages/{about.pk}/edit/", {"title": "Taken", "slug": "taken"}, follow=True
        ).status_code
        == 404
    )
    assert client.post(f"/admin/pages/{fund_page.pk}/unpublish/", follow=True).status_code == 404
    assert (
        client.post(f"/admin/pages/{about.pk}/move/{scene['section_b'].pk}/confirm/", follow=True).status_code
        == 404
    )
    assert (
        client.post(
            f"/admin/pages/{about.pk}/copy/", {"new_title": "Copy", "new_slug": "copy"}, follow=True
        ).status_code
        == 404
    )
    client.post(f"/admin/images/{image.pk}/", {"title": "Taken", "collection": scene["b"].collection_id})
    client.post(f"/admin/documents/edit/{scene['document'].pk}/", {"title": "Taken"})
    about.refresh_from_db()
    fund_page.refresh_from_db()
    image.refresh_from_db()
    scene["document"].refresh_from_db()
    assert about.title == "Zephyrine about us" and about.get_parent().pk == scene["section_a"].pk
    assert fund_page.live
    assert image.title == "Zephyrine poster" and image.collection_id == scene["a"].collection_id
    assert scene["document"].title == "Zephyrine guide"
    assert not Page.objects.filter(title="Copy").exists()


def test_b_chooser_offers_b_and_shared_pages(client, scene):
    client.force_login(scene["b_staff"][Role.PROGRAM_OFFICER])
    home, index = scene["site"]["home"], scene["site"]["index"]
    body = _body(client.get(f"/admin/choose-page/{home.pk}/"))
    assert "Valley Foundation" in body and index.title in body
    assert not any(canary in body for canary in CANARIES)


# --- A's own officer: everything of A ---------------------------------------------------------


def test_a_officer_sees_edits_and_publishes_a_pages_and_chooses_a_image(client, scene):
    client.force_login(scene["officer_a"])
    section, about, home = scene["section_a"], scene["about"], scene["site"]["home"]
    assert "Zephyrine about us" in _body(client.get(f"/admin/pages/{section.pk}/"))
    assert "Zephyrine" in _body(client.get(f"/admin/pages/{home.pk}/"))
    assert "Zephyrine about us" in _body(client.get("/admin/pages/search/?q=Zephyrine"))
    assert "Zephyrine" in _body(client.get(f"/admin/choose-page/{home.pk}/"))
    assert "Valley Foundation" not in _body(client.get(f"/admin/choose-page/{home.pk}/"))
    for page in (section, about, scene["fund_page"], scene["call_page"]):
        assert client.get(f"/admin/pages/{page.pk}/edit/").status_code == 200, page
    assert client.get(f"/admin/pages/{about.pk}/history/").status_code == 200
    response = client.post(
        f"/admin/pages/{about.pk}/edit/",
        {"title": "Zephyrine about us, new", "slug": "about-zephyrine", "intro": "", "body-count": 0,
         "action-publish": "publish", "comments-TOTAL_FORMS": 0, "comments-INITIAL_FORMS": 0,
         "comments-MIN_NUM_FORMS": 0, "comments-MAX_NUM_FORMS": 1000},
    )  # fmt: skip
    assert response.status_code == 302, _body(response)[:2000]
    about.refresh_from_db()
    assert about.title == "Zephyrine about us, new" and about.live
    assert "Zephyrine poster" in _body(client.get("/admin/images/chooser/"))
    assert "Zephyrine poster" in _body(client.get("/admin/images/"))
    assert "Zephyrine guide" in _body(client.get("/admin/documents/chooser/"))
    assert "Zephyrine poster" in _body(client.get(f"/admin/images/chooser/chosen/{scene['image'].pk}/"))
    assert "Zephyrine guide" in _body(client.get(f"/admin/documents/chooser/chosen/{scene['document'].pk}/"))
