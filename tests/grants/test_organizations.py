"""Applicant organizations: profile by legal status, invitations, members, privacy of
other organizations, and the activity log."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client

from grants.models import (
    ActivityEntry,
    LegalStatus,
    Organization,
    OrganizationInvite,
    OrganizationMembership,
)
from grants.services import organizations as services
from tests.factories import (
    OrganizationFactory,
    OrganizationInviteFactory,
    OrganizationMembershipFactory,
    UserFactory,
)

PASSWORD = "correct horse battery"
OWNER = OrganizationMembership.Role.OWNER
MEMBER = OrganizationMembership.Role.MEMBER


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    cache.clear()
    yield
    cache.clear()


def verified_user(**kwargs):
    user = UserFactory(**kwargs)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(db):
    return verified_user(email="owner@example.org", first_name="Olga")


@pytest.fixture
def organization(owner):
    organization = OrganizationFactory(name="Worker Center", created_by=owner)
    OrganizationMembershipFactory(organization=organization, user=owner, role=OWNER)
    return organization


@pytest.fixture
def invitee(db):
    return verified_user(email="invitee@example.org", first_name="Iris", preferred_language="en")


def activity(organization, action):
    return ActivityEntry.objects.filter(
        subject_type="organization", subject_id=organization.pk, action=action
    )


PROFILE = {
    "name": "Rapid Response Network",
    "mission": "Hotline and accompaniment.",
    "region_served": "San Mateo County",
    "languages": "Spanish, Mam",
}


# --- Who may see what ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/en/organizations/", "/en/organizations/new/", "/es/organizations/1/"])
def test_anonymous_visitors_are_sent_to_sign_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    lang = path.split("/")[1]
    assert response["Location"].startswith(f"/{lang}/accounts/login/?next=")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/en/organizations/{pk}/"),
        ("get", "/en/organizations/{pk}/edit/"),
        ("post", "/en/organizations/{pk}/edit/"),
        ("post", "/en/organizations/{pk}/invite/"),
        ("post", "/en/organizations/{pk}/invites/{invite}/revoke/"),
        ("post", "/en/organizations/{pk}/members/{membership}/remove/"),
    ],
)
def test_another_organizations_pages_are_not_found(organization, owner, method, path):
    invite = OrganizationInviteFactory(organization=organization)
    membership = OrganizationMembership.objects.get(organization=organization, user=owner)
    stranger = client_for(verified_user())
    url = path.format(pk=organization.pk, invite=invite.pk, membership=membership.pk)
    response = getattr(stranger, method)(url, {"email": "x@example.org", "language": "en", **PROFILE})
    assert response.status_code == 404
    invite.refresh_from_db()
    assert invite.status == OrganizationInvite.Status.PENDING
    assert OrganizationMembership.objects.filter(pk=membership.pk).exists()


def test_a_member_who_is_not_owner_sees_the_profile_but_cannot_edit_or_invite(organization):
    member = verified_user()
    OrganizationMembershipFactory(organization=organization, user=member, role=MEMBER)
    client = client_for(member)
    page = client.get(f"/en/organizations/{organization.pk}/")
    assert page.status_code == 200
    assert "Invite someone" not in page.content.decode()
    assert client.get(f"/en/organizations/{organization.pk}/edit/").status_code == 403
    response = client.post(f"/en/organizations/{organization.pk}/invite/", {"email": "a@example.org"})
    assert response.status_code == 403
    assert not OrganizationInvite.objects.filter(organization=organization).exists()


def test_selectors(organization, owner):
    stranger = verified_user()
    assert list(services.organizations_for(owner)) == [organization]
    assert list(services.organizations_for(stranger)) == []
    assert services.is_member(owner, organization)
    assert not services.is_member(stranger, organization)
    OrganizationFactory()  # someone else's organization is never included
    assert services.organizations_for(owner).count() == 1


def test_my_organizations_lists_mine_and_not_others(organization, owner):
    OrganizationFactory(name="Somebody Else's Group")
    html = client_for(owner).get("/en/organizations/").content.decode()
    assert "Worker Center" in html
    assert "Somebody Else" not in html


# --- Creating and editing --------------------------------------------------------------


def test_create_a_nonprofit(owner):
    client = client_for(owner)
    response = client.post(
        "/en/organizations/new/",
        {**PROFILE, "legal_status": LegalStatus.NONPROFIT, "tax_id": "123456789", "sponsor_name": "Ignored"},
    )
    organization = Organization.objects.get(name="Rapid Response Network")
    assert response.status_code == 302
    assert response["Location"] == f"/en/organizations/{organization.pk}/"
    assert organization.tax_id == "12-3456789"
    assert organization.sponsor_name == ""  # only what the legal status needs is kept
    assert organization.created_by == owner
    assert OrganizationMembership.objects.get(organization=organization).user == owner
    assert OrganizationMembership.objects.get(organization=organization).role == OWNER
    [entry] = activity(organization, "organization.created")
    assert entry.foundation is None
    assert entry.actor == owner
    assert entry.to_state == LegalStatus.NONPROFIT


def test_create_a_fiscally_sponsored_project(owner):
    client_for(owner).post(
        "/en/organizations/new/",
        {
            **PROFILE,
            "legal_status": LegalStatus.FISCALLY_SPONSORED,
            "tax_id": "99-9999999",
            "sponsor_name": "Community Partners",
            "sponsor_tax_id": "95-1234567",
        },
    )
    organization = Organization.objects.get(name="Rapid Response Network")
    assert organization.legal_status == LegalStatus.FISCALLY_SPONSORED
    assert organization.sponsor_name == "Community Partners"
    assert organization.sponsor_tax_id == "95-1234567"
    assert organization.tax_id == ""


def test_create_an_unincorporated_group(owner):
    client_for(owner).post(
        "/en/organizations/new/",
        {**PROFILE, "legal_status": LegalStatus.UNINCORPORATED, "tax_id": "not a number"},
    )
    organization = Organization.objects.get(name="Rapid Response Network")
    assert organization.legal_status == LegalStatus.UNINCORPORATED
    assert (organization.tax_id, organization.sponsor_name, organization.sponsor_tax_id) == ("", "", "")
    assert services.is_member(owner, organization)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"legal_status": LegalStatus.NONPROFIT}, "tax_id", "A nonprofit needs its tax id (EIN)."),
        ({"legal_status": LegalStatus.NONPROFIT, "tax_id": "12-345"}, "tax_id", "like 12-3456789"),
        ({"legal_status": LegalStatus.NONPROFIT, "tax_id": "AB-CDEFGHI"}, "tax_id", "like 12-3456789"),
        (
            {"legal_status": LegalStatus.FISCALLY_SPONSORED, "sponsor_tax_id": "95-1234567"},
            "sponsor_name",
            "Name the fiscal sponsor.",
        ),
        (
            {"legal_status": LegalStatus.FISCALLY_SPONSORED, "sponsor_name": "Community Partners"},
            "sponsor_tax_id",
            "Give the fiscal sponsor's tax id (EIN).",
        ),
        (
            {
                "legal_status": LegalStatus.FISCALLY_SPONSORED,
                "sponsor_name": "Community Partners",
                "sponsor_tax_id": "951234",
            },
            "sponsor_tax_id",
            "like 12-3456789",
        ),
        ({"legal_status": ""}, "legal_status", "This field is required."),
    ],
)
def test_invalid_profiles_are_refused_and_keep_what_was_typed(owner, data, field, message):
    response = client_for(owner).post("/en/organizations/new/", {**PROFILE, **data})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert any(message in error for error in errors[field])
    assert not Organization.objects.exists()
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert 'value="San Mateo County"' in html
    assert "Hotline and accompaniment." in html


def test_the_form_warns_about_sensitive_data(owner):
    html = client_for(owner).get("/en/organizations/new/").content.decode()
    assert "Never enter client names, case numbers, immigration status or street addresses." in html
    assert "never a street address" in html


def test_services_refuse_a_bad_ein_too(owner):
    with pytest.raises(services.ValidationError):
        services.create_organization(
            by=owner, name="X", region_served="Y", legal_status=LegalStatus.NONPROFIT, tax_id="123"
        )
    assert not Organization.objects.exists()


def test_owner_edits_the_profile(organization, owner):
    response = client_for(owner).post(
        f"/en/organizations/{organization.pk}/edit/",
        {
            **PROFILE,
            "name": "Worker Center East",
            "legal_status": LegalStatus.NONPROFIT,
            "tax_id": "12-3456789",
        },
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.name == "Worker Center East"
    assert organization.tax_id == "12-3456789"
    [entry] = activity(organization, "organization.updated")
    assert (entry.from_state, entry.to_state) == (LegalStatus.UNINCORPORATED, LegalStatus.NONPROFIT)
    assert "name" in entry.note and "tax_id" in entry.note


def test_invalid_edit_changes_nothing(organization, owner):
    response = client_for(owner).post(
        f"/en/organizations/{organization.pk}/edit/",
        {**PROFILE, "name": "Renamed", "legal_status": LegalStatus.NONPROFIT, "tax_id": "1-2"},
    )
    assert response.status_code == 200
    organization.refresh_from_db()
    assert organization.name == "Worker Center"
    assert not activity(organization, "organization.updated").exists()


# --- Invitations -----------------------------------------------------------------------


def invite(client, organization, email, language="en", capture=None):
    with capture(execute=True):
        return client.post(
            f"/en/organizations/{organization.pk}/invite/", {"email": email, "language": language}
        )


def invite_link(message) -> str:
    [link] = re.findall(r"https?://\S+/organizations/invites/[\w-]+/", message.body)
    return link


def test_owner_invites_by_email_in_the_chosen_language(
    organization, owner, django_capture_on_commit_callbacks
):
    response = invite(
        client_for(owner), organization, "New.Person@Example.org", "es", django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    created = OrganizationInvite.objects.get(organization=organization)
    assert created.email == "new.person@example.org"
    assert created.status == OrganizationInvite.Status.PENDING
    assert created.invited_by == owner
    [message] = mail.outbox
    assert message.to == ["new.person@example.org"]
    assert invite_link(message) == f"http://testserver/es/organizations/invites/{created.token}/"
    assert "Worker Center" in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert invite_link(message) in html
    assert activity(organization, "invite.sent").count() == 1
    assert "new.person" not in activity(organization, "invite.sent").get().note  # ids, not addresses


def test_invite_email_uses_the_invitees_own_language_when_they_have_an_account(
    organization, owner, invitee, django_capture_on_commit_callbacks
):
    invite(client_for(owner), organization, invitee.email, "es", django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert "/en/organizations/invites/" in invite_link(message)


def test_one_open_invitation_per_address(organization, owner, django_capture_on_commit_callbacks):
    client = client_for(owner)
    invite(client, organization, "twice@example.org", capture=django_capture_on_commit_callbacks)
    response = invite(client, organization, "Twice@example.org", capture=django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "already has an open invitation" in response.content.decode()
    assert OrganizationInvite.objects.filter(organization=organization).count() == 1
    assert len(mail.outbox) == 1


def test_members_are_not_invited_again(organization, owner, django_capture_on_commit_callbacks):
    response = invite(
        client_for(owner), organization, owner.email, capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert not OrganizationInvite.objects.exists()
    assert mail.outbox == []


def test_invitee_accepts(organization, invitee):
    pending = OrganizationInviteFactory(organization=organization, email=invitee.email)
    client = client_for(invitee)
    listing = client.get("/en/organizations/").content.decode()
    assert f"/en/organizations/invites/{pending.token}/" in listing
    page = client.get(f"/en/organizations/invites/{pending.token}/")
    assert page.status_code == 200
    assert "Worker Center" in page.content.decode()

    response = client.post(f"/en/organizations/invites/{pending.token}/", {"action": "accept"})
    assert response.status_code == 302
    assert response["Location"] == f"/en/organizations/{organization.pk}/"
    pending.refresh_from_db()
    assert pending.status == OrganizationInvite.Status.ACCEPTED
    assert pending.responded_at is not None
    membership = OrganizationMembership.objects.get(organization=organization, user=invitee)
    assert membership.role == MEMBER
    assert services.is_member(invitee, organization)
    assert client.get(f"/en/organizations/{organization.pk}/").status_code == 200
    [entry] = activity(organization, "invite.accepted")
    assert (entry.actor, entry.from_state, entry.to_state) == (invitee, "pending", "accepted")


def test_invitee_declines(organization, invitee):
    pending = OrganizationInviteFactory(organization=organization, email=invitee.email)
    response = client_for(invitee).post(f"/en/organizations/invites/{pending.token}/", {"action": "decline"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == OrganizationInvite.Status.DECLINED
    assert not services.is_member(invitee, organization)
    assert activity(organization, "invite.declined").count() == 1


def test_wrong_account_cannot_accept(organization, invitee):
    pending = OrganizationInviteFactory(organization=organization, email="someone-else@example.org")
    client = client_for(invitee)
    assert client.get(f"/en/organizations/invites/{pending.token}/").status_code == 403
    response = client.post(f"/en/organizations/invites/{pending.token}/", {"action": "accept"})
    assert response.status_code == 403
    assert "sent to a different email address" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == OrganizationInvite.Status.PENDING
    assert not services.is_member(invitee, organization)
    with pytest.raises(services.InviteNotForYou):
        services.accept_invite(invite=pending, by=invitee)


def test_wrong_account_message_is_translated(organization, invitee):
    pending = OrganizationInviteFactory(organization=organization, email="someone-else@example.org")
    response = client_for(invitee).get(f"/es/organizations/invites/{pending.token}/")
    assert response.status_code == 403
    assert '<html lang="es">' in response.content.decode()


def test_owner_revokes_and_the_link_stops_working(organization, owner, invitee):
    pending = OrganizationInviteFactory(organization=organization, email=invitee.email)
    response = client_for(owner).post(f"/en/organizations/{organization.pk}/invites/{pending.pk}/revoke/")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == OrganizationInvite.Status.REVOKED
    assert activity(organization, "invite.revoked").count() == 1

    client = client_for(invitee)
    page = client.get(f"/en/organizations/invites/{pending.token}/")
    assert page.status_code == 410
    assert "withdrawn" in page.content.decode()
    assert client.post(f"/en/organizations/invites/{pending.token}/", {"action": "accept"}).status_code == 410
    assert not services.is_member(invitee, organization)


def test_a_used_invitation_cannot_be_used_again(organization, invitee):
    pending = OrganizationInviteFactory(organization=organization, email=invitee.email)
    client = client_for(invitee)
    client.post(f"/en/organizations/invites/{pending.token}/", {"action": "accept"})
    response = client.post(f"/en/organizations/invites/{pending.token}/", {"action": "decline"})
    assert response.status_code == 410
    assert "already been accepted" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == OrganizationInvite.Status.ACCEPTED
    assert services.is_member(invitee, organization)


def test_a_declined_invitation_cannot_be_accepted(organization, invitee):
    pending = OrganizationInviteFactory(organization=organization, email=invitee.email)
    services.decline_invite(invite=pending, by=invitee)
    with pytest.raises(services.InviteClosed):
        services.accept_invite(invite=pending, by=invitee)
    assert not services.is_member(invitee, organization)


def test_only_owners_revoke(organization, invitee):
    pending = OrganizationInviteFactory(organization=organization)
    member = verified_user()
    OrganizationMembershipFactory(organization=organization, user=member, role=MEMBER)
    with pytest.raises(services.OrganizationError):
        services.revoke_invite(invite=pending, by=member)
    pending.refresh_from_db()
    assert pending.status == OrganizationInvite.Status.PENDING


def test_unknown_invitation_is_not_found(invitee):
    assert client_for(invitee).get("/en/organizations/invites/no-such-token/").status_code == 404
    assert Client().get("/en/organizations/invites/no-such-token/").status_code == 404


def test_anonymous_invitee_is_asked_to_sign_in_and_comes_back(organization):
    pending = OrganizationInviteFactory(organization=organization)
    path = f"/en/organizations/invites/{pending.token}/"
    page = Client().get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/en/accounts/login/?next={path}" in html
    assert f"/en/accounts/signup/?next={path}" in html
    response = Client().post(path, {"action": "accept"})
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/login/")
    pending.refresh_from_db()
    assert pending.status == OrganizationInvite.Status.PENDING


def test_invitee_signs_up_from_the_invitation_and_lands_back_on_it(organization):
    pending = OrganizationInviteFactory(organization=organization, email="brand-new@example.org")
    path = f"/en/organizations/invites/{pending.token}/"
    client = Client()
    client.post(
        "/en/accounts/signup/",
        {
            "first_name": "Bea",
            "email": "brand-new@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "preferred_language": "en",
            "next": path,
        },
    )
    [message] = mail.outbox
    [activate] = re.findall(r"https?://\S+/confirm-email/\S+/", message.body)
    response = client.post(activate.split("testserver", 1)[1])
    assert response.status_code == 302
    assert response["Location"] == path
    client.post(path, {"action": "accept"})
    pending.refresh_from_db()
    assert pending.status == OrganizationInvite.Status.ACCEPTED


# --- Members ---------------------------------------------------------------------------


def test_owner_removes_a_member(organization, owner):
    member = verified_user()
    membership = OrganizationMembershipFactory(organization=organization, user=member, role=MEMBER)
    response = client_for(owner).post(f"/en/organizations/{organization.pk}/members/{membership.pk}/remove/")
    assert response.status_code == 302
    assert not services.is_member(member, organization)
    [entry] = activity(organization, "member.removed")
    assert entry.actor == owner
    assert entry.note == f"user {member.pk}"
    assert client_for(member).get(f"/en/organizations/{organization.pk}/").status_code == 404


def test_a_member_cannot_remove_others(organization, owner):
    member = verified_user()
    OrganizationMembershipFactory(organization=organization, user=member, role=MEMBER)
    owners_membership = OrganizationMembership.objects.get(organization=organization, user=owner)
    client_for(member).post(f"/en/organizations/{organization.pk}/members/{owners_membership.pk}/remove/")
    assert services.is_member(owner, organization)
    assert not activity(organization, "member.removed").exists()


def test_a_member_can_leave(organization):
    member = verified_user()
    membership = OrganizationMembershipFactory(organization=organization, user=member, role=MEMBER)
    response = client_for(member).post(f"/en/organizations/{organization.pk}/members/{membership.pk}/remove/")
    assert response["Location"] == "/en/organizations/"
    assert not services.is_member(member, organization)
    assert activity(organization, "member.left").count() == 1


def test_the_last_owner_cannot_be_removed(organization, owner):
    membership = OrganizationMembership.objects.get(organization=organization, user=owner)
    client = client_for(owner)
    response = client.post(
        f"/en/organizations/{organization.pk}/members/{membership.pk}/remove/", follow=True
    )
    assert "at least one owner" in response.content.decode()
    assert services.is_member(owner, organization)
    with pytest.raises(services.OrganizationError):
        services.remove_member(membership=membership, by=owner)

    # With a second owner, the first may go.
    second = verified_user()
    OrganizationMembershipFactory(organization=organization, user=second, role=OWNER)
    services.remove_member(membership=membership, by=second)
    assert not services.is_member(owner, organization)
    assert services.is_owner(second, organization)
