"""Emails in Wagtail admin (Settings → "Emails", URL namespace ``emails``): the state of every
message the portal sent or is trying to send, and "Send again" for one that was not sent.

Platform administrators see every message; a foundation's admins see the messages about their
foundation. Nobody reads a message's text here: the page shows what it was, to whom (a hint: the
recipient's domain), when, and what the mail server answered.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from grants.models import EmailStatus
from grants.permissions import Capability, emails_visible_to, foundation_ids, foundations_where
from grants.services import outbox


def _check_access(user):
    if user.is_superuser or foundations_where(user, Capability.MANAGE_EMAILS):
        return
    if foundation_ids(user):
        raise PermissionDenied  # staff in another role: Wagtail's "no permission" message
    raise Http404


class EmailsIndexView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "grants/admin/emails/index.html"
    page_title = _("Emails")
    header_icon = "mail"
    FILTERS = {
        "waiting": Q(status__in=[EmailStatus.QUEUED, EmailStatus.RETRYING]),
        "failed": Q(status=EmailStatus.FAILED),
        "sent": Q(status=EmailStatus.SENT),
    }

    def dispatch(self, request, *args, **kwargs):
        _check_access(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = emails_visible_to(self.request.user).select_related("foundation").only(
            "kind", "recipient_hint", "status", "attempts", "last_error", "next_attempt_at", "created_at",
            "sent_at", "foundation__name",
        )  # fmt: skip
        shown = self.request.GET.get("status", "")
        if shown in self.FILTERS:
            rows = rows.filter(self.FILTERS[shown])
        page = Paginator(rows, 50).get_page(self.request.GET.get("p"))
        context.update(
            page=page,
            shown=shown,
            filters=[
                ("", _("All")),
                ("waiting", _("Waiting")),
                ("failed", _("Not sent")),
                ("sent", _("Sent")),
            ],
            failed=EmailStatus.FAILED,
        )
        return context


class SendAgainView(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        _check_access(request.user)
        email = emails_visible_to(request.user).filter(pk=pk).first()
        if email is None:
            raise Http404
        try:
            email = outbox.send_again(email)
        except outbox.NotRetryable:
            messages.error(request, _t("This message is not waiting to be sent again."))
        else:
            if email.status == EmailStatus.SENT:
                messages.success(request, _t("The message was sent."))
            else:
                messages.warning(request, _t("The mail server refused it again; it will be tried again."))
        return redirect("emails:index")


class EmailsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser or bool(foundations_where(request.user, Capability.MANAGE_EMAILS))


class EmailsViewSet(ViewSet):
    """ "Emails" in the Settings menu: URL namespace ``emails``."""

    icon = "mail"
    menu_label = _("Emails")
    menu_order = 910
    add_to_settings_menu = True
    menu_item_class = EmailsMenuItem
    url_prefix = "emails"

    def get_urlpatterns(self):
        return [
            path("", EmailsIndexView.as_view(), name="index"),
            path("<int:pk>/send-again/", SendAgainView.as_view(), name="send_again"),
        ]
