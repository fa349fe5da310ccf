"""Adding a foundation: one form for the platform administrator (URL namespace ``foundation_add``).

Only superusers open it; foundation staff are refused the way Wagtail refuses any area, and
nothing is created. The form collects the foundation, its section pages' introductions, its
Stripe keys (optional) and its first admin; ``grants.services.foundations.add_foundation`` does
the rest in one transaction.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from grants.admin.stripe_keys import secret_input
from grants.forms.limits import TextLimits
from grants.money import currency_choices
from grants.services.foundations import add_foundation

STRIPE_FIELDS = ("stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret",
                 "stripe_connect_webhook_secret")  # fmt: skip


class AddFoundationForm(TextLimits, forms.Form):
    """What ``add_foundation`` needs; the rules (unique slug, EIN, key formats) are the service's."""

    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Slug"), max_length=80,
        help_text=_("Short name in web addresses, e.g. central-valley: /en/central-valley/."),
    )  # fmt: skip
    legal_name = forms.CharField(label=_("Legal name"), max_length=255)
    tax_id = forms.CharField(label=_("Tax id (EIN)"), max_length=20, required=False,
                             help_text=_("For example 12-3456789."))  # fmt: skip
    default_currency = forms.ChoiceField(label=_("Default currency"), choices=currency_choices, initial="USD")
    contact_email = forms.EmailField(label=_("Contact email"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    intro_en = forms.CharField(label=_("Introduction in English"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("Shown at the top of the foundation's page. Blank lines start paragraphs."))  # fmt: skip
    intro_es = forms.CharField(
        label=_("Introduction in Spanish"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    stripe_secret_key = forms.CharField(label=_("Stripe secret key"), required=False, max_length=255,
                                        widget=secret_input())  # fmt: skip
    stripe_publishable_key = forms.CharField(
        label=_("Stripe publishable key"), required=False, max_length=255
    )
    stripe_webhook_secret = forms.CharField(label=_("Webhook signing secret"), required=False, max_length=255,
                                            widget=secret_input())  # fmt: skip
    stripe_connect_webhook_secret = forms.CharField(label=_("Connect webhook signing secret"), required=False,
                                                    max_length=255, widget=secret_input())  # fmt: skip
    admin_email = forms.EmailField(label=_("Email of the foundation's administrator"))
    admin_name = forms.CharField(label=_("Their name"), max_length=200, required=False)
    admin_language = forms.ChoiceField(label=_("Their language"), choices=settings.LANGUAGES, initial="en",
                                       help_text=_("The invitation is written in this language."))  # fmt: skip


class AddFoundationView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "grants/admin/foundations/add.html"
    page_title = _("Add a foundation")
    header_icon = "group"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied  # Wagtail's "no permission": back to the dashboard
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(form=form or AddFoundationForm(), stripe_fields=STRIPE_FIELDS,
                       simulated=settings.STRIPE_GATEWAY == "simulated")  # fmt: skip
        return context

    def post(self, request, *args, **kwargs):
        form = AddFoundationForm(request.POST)
        if form.is_valid():
            try:
                foundation = add_foundation(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(
                    request,
                    _("%(foundation)s was added; its administrator was invited by email.")
                    % {"foundation": foundation.name},
                )
                return redirect("foundations:index")
        messages.error(request, _("The foundation was not added: check the fields marked below."))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


class AddFoundationViewSet(ViewSet):
    """ "Add a foundation" in the Settings menu, for the platform administrator only."""

    icon = "group"
    menu_label = _("Add a foundation")
    menu_order = 890
    add_to_settings_menu = True
    menu_item_class = SuperuserMenuItem
    url_prefix = "add-foundation"

    def get_urlpatterns(self):
        return [path("", AddFoundationView.as_view(), name="add")]
