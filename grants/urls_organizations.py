"""Applicants' organization pages, under /<lang>/organizations/."""

from django.urls import path, register_converter

from grants.views import bonds as bond_views
from grants.views import organizations as views
from grants.views import privacy

app_name = "organizations"


class InviteTokenConverter:
    """An invite token as ``secrets.token_urlsafe`` makes it: anything else (a NUL byte the
    database cannot even compare, punctuation, spaces) is not found before any query runs."""

    regex = r"[A-Za-z0-9_-]{1,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(InviteTokenConverter, "invite_token")

urlpatterns = [
    path("", views.organization_list, name="list"),
    path("new/", views.organization_create, name="create"),
    path("invites/<invite_token:token>/", views.invite_respond, name="invite"),
    path("<int:pk>/", views.organization_detail, name="detail"),
    path("<int:pk>/edit/", views.organization_edit, name="edit"),
    path("<int:pk>/invite/", views.organization_invite, name="invite_create"),
    path("<int:pk>/invites/<int:invite_id>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("<int:pk>/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("<int:pk>/bonds/", bond_views.bond_list, name="bonds"),
    path("<int:pk>/bonds/new/", bond_views.bond_new, name="bond_new"),
    path("<int:pk>/bonds/<int:bond_id>/withdraw/", bond_views.bond_withdraw, name="bond_withdraw"),
    path("<int:pk>/data/", privacy.organization_data, name="data"),
    path("<int:pk>/delete/", privacy.organization_delete, name="delete"),
]
