from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks

from .admin.activity import ActivityViewSet
from .admin.applications import ApplicationViewSet
from .admin.awards import AwardViewSet
from .admin.bonds import BondViewSet
from .admin.donations import DonationsViewSet
from .admin.emails import EmailsViewSet
from .admin.exports import ExportsViewSet
from .admin.foundations_add import AddFoundationViewSet
from .admin.home import add_work_queues
from .admin.money import FundMoneyViewSet
from .admin.payments import PaymentsViewSet
from .admin.privacy import PrivacyViewSet
from .admin.reports import ReportsViewSet
from .admin.reviews import DecisionMessageViewSet, ReviewsViewSet
from .admin.stipends import StipendViewSet
from .admin.stripe_keys import StripeKeysViewSet
from .admin.vendors import VendorViewSet
from .admin.viewsets import GrantsViewSetGroup


@hooks.register("register_admin_viewset")
def register_grants_viewsets():
    return GrantsViewSetGroup()


@hooks.register("register_admin_viewset")
def register_application_viewset():
    return ApplicationViewSet("applications")


@hooks.register("register_admin_viewset")
def register_review_viewsets():
    return [ReviewsViewSet("reviews"), DecisionMessageViewSet("decision-messages")]


@hooks.register("register_admin_viewset")
def register_money_viewsets():
    return [AwardViewSet("awards"), FundMoneyViewSet("fund_money")]


@hooks.register("register_admin_viewset")
def register_stipend_viewset():
    return StipendViewSet("stipends_admin")


@hooks.register("register_admin_viewset")
def register_bond_viewset():
    return BondViewSet("bonds")


@hooks.register("register_admin_viewset")
def register_payments_viewset():
    return PaymentsViewSet("payments")


@hooks.register("register_admin_viewset")
def register_vendors_viewset():
    return VendorViewSet("vendors")


@hooks.register("register_admin_viewset")
def register_donations_viewset():
    return DonationsViewSet("donations_admin")


@hooks.register("register_admin_viewset")
def register_reports_viewset():
    return ReportsViewSet("reports_admin")


@hooks.register("register_admin_viewset")
def register_activity_viewset():
    return ActivityViewSet("activity")


@hooks.register("register_admin_viewset")
def register_exports_viewset():
    return ExportsViewSet("exports")


@hooks.register("register_admin_viewset")
def register_privacy_viewset():
    return PrivacyViewSet("privacy")


@hooks.register("register_admin_viewset")
def register_stripe_keys_viewset():
    return StripeKeysViewSet("stripe_keys")


@hooks.register("register_admin_viewset")
def register_emails_viewset():
    return EmailsViewSet("emails")


@hooks.register("register_admin_viewset")
def register_add_foundation_viewset():
    return AddFoundationViewSet("foundation_add")


@hooks.register("construct_reports_menu")
def hide_site_history_from_staff(request, menu_items):
    """Wagtail's site history spans every foundation: superusers only (grants/admin/site_history.py)."""
    if not request.user.is_superuser:
        menu_items[:] = [item for item in menu_items if item.name != "site-history"]


@hooks.register("insert_global_admin_css")
def table_styles():
    """Phone cards and focusable scroll regions for the project's admin tables."""
    return format_html('<link rel="stylesheet" href="{}">', static("css/admin-tables.css"))


@hooks.register("construct_homepage_panels")
def add_work_queues_to_the_home(request, panels):
    """What waits for the person, per role, first on the admin home (grants/admin/home.py)."""
    add_work_queues(request, panels)
