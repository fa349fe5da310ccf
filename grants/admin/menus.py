"""Admin menu items shown to the people who hold a capability at some foundation."""

from django.urls import reverse
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from grants.permissions import Capability, foundations_where


class CapabilityMenuItem(MenuItem):
    """A menu item shown to people who may do ``capability`` at one foundation at least."""

    def __init__(self, *args, capability: Capability, **kwargs):
        super().__init__(*args, **kwargs)
        self.capability = capability

    def is_shown(self, request):
        return bool(foundations_where(request.user, self.capability))


class CapabilityViewSet(ViewSet):
    """An admin area with one menu item, shown to people who may do ``menu_capability``
    somewhere; the item opens the URL named ``<url_prefix>:index``."""

    menu_capability: Capability
    add_to_admin_menu = True

    def get_menu_item(self, order=None):
        return CapabilityMenuItem(
            self.menu_label,
            reverse(f"{self.url_prefix}:index"),
            name=self.url_prefix,
            icon_name=self.icon,
            order=self.get_menu_item_order(order),
            capability=self.menu_capability,
        )
