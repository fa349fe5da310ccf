from wagtail import hooks

from .admin.applications import ApplicationViewSet
from .admin.viewsets import GrantsViewSetGroup


@hooks.register("register_admin_viewset")
def register_grants_viewsets():
    return GrantsViewSetGroup()


@hooks.register("register_admin_viewset")
def register_application_viewset():
    return ApplicationViewSet("applications")
