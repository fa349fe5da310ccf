"""A foundation's Stripe keys in Wagtail admin (Settings → "Stripe keys", URL namespace
``stripe_keys``).

Only the foundation's admins (and superusers) open it. Other staff of the foundation are
refused the way Wagtail refuses any area (back to the dashboard with a message); another
foundation's page is a 404. The secrets are write-only: the form never renders them back, not
even after an error, and the page only says when the secret key was set, by whom, and its last
four characters. Saving goes through ``grants.payments.credentials.save_stripe_secrets``, which
validates the keys (including live/test mode against ``STRIPE_LIVEMODE``) and writes an
activity entry without any secret.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Length
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from grants.forms.limits import TextLimits
from grants.models import Foundation, StripeAccountSecrets
from grants.payments import credentials
from grants.permissions import Capability, can, foundation_ids, foundations_where


def secret_input():
    # Never rendered back; "new-password" keeps browsers from filling in or offering to save it.
    return forms.PasswordInput(
        render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}
    )


class StripeKeysForm(TextLimits, forms.Form):
    """The keys to store. An empty secret keeps the one in place."""

    secret_key = forms.CharField(
        label=_("Secret key"),
        required=False,
        max_length=255,
        widget=secret_input(),
        help_text=_("Starts with sk_live_ or sk_test_ (or rk_ for a restricted key). Developers → API keys."),
    )
    publishable_key = forms.CharField(
        label=_("Publishable key"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Starts with pk_live_ or pk_test_. Optional: the portal uses Stripe's hosted pages."),
    )
    webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        required=False,
        max_length=255,
        widget=secret_input(),
        help_text=_("Starts with whsec_: the signing secret of the endpoint for your account's events."),
    )
    connect_webhook_secret = forms.CharField(
        label=_("Connect webhook signing secret"),
        required=False,
        max_length=255,
        widget=secret_input(),
        help_text=_("Starts with whsec_: the signing secret of the endpoint for connected accounts' events."),
    )

    VALIDATORS = {
        "secret_key": credentials.validate_secret_key,
        "publishable_key": credentials.validate_publishable_key,
        "webhook_secret": credentials.validate_webhook_secret,
        "connect_webhook_secret": credentials.validate_webhook_secret,
    }

    def clean(self):
        data = super().clean()
        for name, validator in self.VALIDATORS.items():
            value = data.get(name)
            if value:
                try:
                    validator(value)
                except ValidationError as error:
                    self.add_error(name, error)
        return data


def admin_foundations(user):
    return Foundation.objects.filter(pk__in=foundations_where(user, Capability.MANAGE_STRIPE_KEYS)).order_by(
        "name"
    )


def stored_keys(foundations):
    """The stored keys of ``foundations`` by foundation id, without loading (or decrypting) the
    secrets: each row tells only whether a secret is set (``<name>_set``), so the page still
    works — and the keys can be replaced — when the stored secrets cannot be decrypted."""
    rows = (
        StripeAccountSecrets.objects.filter(foundation__in=foundations)
        .select_related("updated_by")
        .defer(*credentials.SECRET_FIELDS)
        .annotate(**{f"{name}_length": Length(name) for name in credentials.SECRET_FIELDS})
    )
    for row in rows:
        for name in credentials.SECRET_FIELDS:
            setattr(row, f"{name}_set", bool(getattr(row, f"{name}_length")))
    return {row.foundation_id: row for row in rows}


class StripeKeysPage(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "key"

    def dispatch(self, request, *args, **kwargs):
        if not foundations_where(request.user, Capability.MANAGE_STRIPE_KEYS):
            if foundation_ids(request.user):
                raise PermissionDenied  # staff in another role: Wagtail's "no permission" message
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class StripeKeysIndexView(StripeKeysPage):
    """The foundations whose keys the user manages; straight to the form when there is one."""

    template_name = "grants/admin/stripe_keys/index.html"
    page_title = _("Stripe keys")

    def get(self, request, *args, **kwargs):
        foundations = list(admin_foundations(request.user))
        if len(foundations) == 1:
            return redirect("stripe_keys:edit", foundations[0].pk)
        return super().get(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        foundations = list(admin_foundations(self.request.user))
        stored = stored_keys(foundations)
        context["rows"] = [{"foundation": f, "stored": stored.get(f.pk)} for f in foundations]
        return context


class StripeKeysEditView(StripeKeysPage):
    """One foundation's keys: what is in place, and the form to set or replace them."""

    template_name = "grants/admin/stripe_keys/edit.html"

    def dispatch(self, request, *args, **kwargs):
        self.foundation = Foundation.objects.filter(pk=kwargs["foundation_id"]).first()
        if self.foundation is None or self.foundation.pk not in foundation_ids(request.user):
            raise Http404  # another foundation's keys: as if it did not exist
        if not can(request.user, Capability.MANAGE_STRIPE_KEYS, self.foundation):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _t("Stripe keys of %(foundation)s") % {"foundation": self.foundation.name}

    def get_breadcrumbs_items(self):
        items = self.breadcrumbs_items
        if len(foundations_where(self.request.user, Capability.MANAGE_STRIPE_KEYS)) > 1:
            items = items + [{"url": reverse("stripe_keys:index"), "label": _("Stripe keys")}]
        return items + [{"url": "", "label": self.get_page_title()}]

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        foundation = self.foundation
        environment = {
            "secret_key": credentials.set_in_environment(foundation, "STRIPE_SECRET_KEY"),
            "publishable_key": credentials.set_in_environment(foundation, "STRIPE_PUBLISHABLE_KEY"),
            "webhook_secret": credentials.set_in_environment(foundation, "STRIPE_WEBHOOK_SECRET"),
            "connect_webhook_secret": credentials.set_in_environment(
                foundation, "STRIPE_CONNECT_WEBHOOK_SECRET"
            ),
        }
        stored = stored_keys([foundation]).get(foundation.pk)
        if form is None:
            form = StripeKeysForm(initial={"publishable_key": stored.publishable_key if stored else ""})
        context.update(
            form=form,
            foundation=foundation,
            stored=stored,
            environment=environment,
            simulated=settings.STRIPE_GATEWAY == "simulated",
            livemode=bool(settings.STRIPE_LIVEMODE),
            platform_endpoint=self.request.build_absolute_uri(
                reverse("stripe_webhook", kwargs={"foundation": foundation.slug})
            ),
            connect_endpoint=self.request.build_absolute_uri(
                reverse("stripe_connect_webhook", kwargs={"foundation": foundation.slug})
            ),
        )
        return context

    def post(self, request, *args, **kwargs):
        form = StripeKeysForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                credentials.save_stripe_secrets(
                    self.foundation,
                    by=request.user,
                    secret_key=data["secret_key"],
                    webhook_secret=data["webhook_secret"],
                    connect_webhook_secret=data["connect_webhook_secret"],
                    publishable_key=data["publishable_key"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, _t("Stripe keys of %(foundation)s saved.") % {"foundation": self.foundation.name}
                )
                return redirect("stripe_keys:edit", self.foundation.pk)
        messages.error(
            request, _t("The keys were not saved: check the fields marked below and enter them again.")
        )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class StripeKeysMenuItem(MenuItem):
    def is_shown(self, request):
        return bool(foundations_where(request.user, Capability.MANAGE_STRIPE_KEYS))


class StripeKeysViewSet(ViewSet):
    """ "Stripe keys" in the Settings menu: URL namespace ``stripe_keys``."""

    icon = "key"
    menu_label = _("Stripe keys")
    menu_order = 900
    add_to_settings_menu = True
    menu_item_class = StripeKeysMenuItem
    url_prefix = "stripe-keys"

    def get_urlpatterns(self):
        return [
            path("", StripeKeysIndexView.as_view(), name="index"),
            path("<int:foundation_id>/", StripeKeysEditView.as_view(), name="edit"),
        ]
