"""Applicants' organization pages, under /<lang>/organizations/."""

from django.urls import path

from grants.views import organizations as views

app_name = "organizations"

urlpatterns = [
    path("", views.organization_list, name="list"),
    path("new/", views.organization_create, name="create"),
    path("invites/<str:token>/", views.invite_respond, name="invite"),
    path("<int:pk>/", views.organization_detail, name="detail"),
    path("<int:pk>/edit/", views.organization_edit, name="edit"),
    path("<int:pk>/invite/", views.organization_invite, name="invite_create"),
    path("<int:pk>/invites/<int:invite_id>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("<int:pk>/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
]
