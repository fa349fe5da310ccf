from wagtail import hooks

from .admin.activity import ActivityViewSet
from .admin.applications import ApplicationViewSet
from .admin.awards import AwardViewSet
from .admin.donations import DonationsViewSet
from .admin.exports import ExportsViewSet
from .admin.money import FundMoneyViewSet
from .admin.payments import PaymentsViewSet
from .admin.reports import ReportsViewSet
from .admin.reviews import DecisionMessageViewSet, ReviewsViewSet
from .admin.stipends import StipendViewSet
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
def register_payments_viewset():
    return PaymentsViewSet("payments")


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
