from wagtail import hooks

from .admin.viewsets import GrantsViewSetGroup


@hooks.register("register_admin_viewset")
def register_grants_viewsets():
    return GrantsViewSetGroup()
