from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import page_cache
from cms.views import branding_css, set_language
from grants.admin import site_history
from grants.views.accounts import login_link, staff_login

urlpatterns = [
    # Before Wagtail's own: staff sign in on allauth's page (password, then the second factor).
    path("admin/login/", staff_login, name="staff_login"),
    # Before Wagtail's own: its site history spans every foundation, so only superusers read it.
    path("admin/reports/site-history/", site_history.site_history),
    path("admin/reports/site-history/results/", site_history.site_history_results),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("language/", set_language, name="set_language"),
    path("branding.css", branding_css, name="branding_css"),
    # Stand-ins for Stripe's hosted pages; they answer 404 unless STRIPE_GATEWAY is "simulated".
    path("simulated-stripe/", include("grants.payments.simulator.urls")),
    path("stripe/webhooks/", include("grants.urls_webhooks")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += i18n_patterns(
    path("accounts/login/link/<str:token>/", login_link, name="login_link"),
    path("accounts/", include("allauth.urls")),
    path("organizations/", include("grants.urls_organizations")),
    path("", include("grants.urls")),
    re_path(wagtail_urls.serve_pattern, page_cache.serve),  # public pages, cached for visitors
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)
