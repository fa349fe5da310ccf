from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms.views import set_language
from grants.views.accounts import login_link

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("language/", set_language, name="set_language"),
    # Stand-ins for Stripe's hosted pages; they answer 404 unless STRIPE_GATEWAY is "simulated".
    path("simulated-stripe/", include("grants.urls_simulated")),
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
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)
