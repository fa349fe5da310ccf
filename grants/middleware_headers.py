"""Browser security headers: the Content Security Policy and the Permissions-Policy.

The policies themselves are settings (``CONTENT_SECURITY_POLICY`` for the public site,
``CONTENT_SECURITY_POLICY_ADMIN`` for the Wagtail admin, ``PERMISSIONS_POLICY``); this module
only decides which one a response gets:

- everything under ``/admin/`` gets the admin policy: scripts only from our origin or carrying
  this response's nonce, and inline styles allowed (Wagtail's admin sets ``style`` attributes
  throughout its markup);
- every other page gets the public policy: no inline script or style at all;
- a response that may be framed by our own pages (Wagtail marks its preview views
  ``X-Frame-Options: SAMEORIGIN``) gets ``frame-ancestors 'self'`` instead of ``'none'``, so the
  CSP never contradicts the X-Frame-Options decision Django already made.

Wagtail writes a few ``<script>`` elements of its own: some from templates (date pickers,
inline panels; overridden under ``templates/wagtailadmin/`` with ``nonce="{% csp_nonce %}"``)
and one from Python (``BaseChooser.render``, every page/image/document/snippet chooser). Form
widgets render without the request, so the middleware keeps the current request's nonce in a
context variable (``current_csp_nonce``) that the template tag and the chooser wrapper read.
"""

from contextvars import ContextVar

from csp.constants import HEADER, SELF
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import default_config
from django.conf import settings
from django.utils.safestring import mark_safe
from wagtail.admin.widgets import BaseChooser

ADMIN_PATH_PREFIX = "/admin/"

_current_nonce: ContextVar[object | None] = ContextVar("fundportal_csp_nonce", default=None)


def current_csp_nonce() -> str:
    """The CSP nonce of the request being handled, or "" outside a request.

    Reading it makes the response's policy carry the nonce (django-csp adds it to the header
    only when something used it), so call it only where a ``<script nonce>`` is written.
    """
    nonce = _current_nonce.get()
    return str(nonce) if nonce is not None else ""


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware choosing the public or the admin policy by path (see module doc)."""

    def __init__(self, get_response=None):
        super().__init__(get_response)
        _add_nonce_to_wagtail_choosers()

    def process_request(self, request):
        super().process_request(request)
        request._fundportal_csp_token = _current_nonce.set(request.csp_nonce)

    def process_response(self, request, response):
        try:
            response = super().process_response(request, response)
        finally:
            token = getattr(request, "_fundportal_csp_token", None)
            if token is not None:
                del request._fundportal_csp_token
                try:
                    _current_nonce.reset(token)
                except ValueError:  # set in another context (async handlers): just clear it
                    _current_nonce.set(None)
        # After the policy is written: Wagtail renders a preview by running the page's request
        # through the whole middleware stack again, so the preview arrives with the public
        # policy already set, and only then is marked SAMEORIGIN by the preview view.
        if response.get("X-Frame-Options", "").upper() == "SAMEORIGIN" and HEADER in response:
            response[HEADER] = _with_directive(response[HEADER], "frame-ancestors", SELF)
        return response

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and parts.config is None and request.path_info.startswith(ADMIN_PATH_PREFIX):
            parts.config = default_config(settings.CONTENT_SECURITY_POLICY_ADMIN["DIRECTIVES"])
        return parts


def _with_directive(policy: str, name: str, value: str) -> str:
    """``policy`` with directive ``name`` set to ``value`` (replaced, or added at the end)."""
    parts = [part.strip() for part in policy.split(";") if part.strip()]
    kept = [part for part in parts if part.split()[0] != name]
    return "; ".join([*kept, f"{name} {value}"])


def _add_nonce_to_wagtail_choosers() -> None:
    """Give the ``<script>`` Wagtail's chooser widgets write after their markup this request's nonce.

    ``BaseChooser.render`` returns ``<markup><script>new PageChooser(...)</script>``; the script
    only starts the widget's JavaScript on that markup, with options Wagtail computed itself.
    Wrapped once per process; without a current request (no middleware) nothing changes.
    """
    if getattr(BaseChooser.render, "_fundportal_nonce", False):
        return
    wagtail_render = BaseChooser.render

    def render(self, name, value, attrs=None, renderer=None):
        html = wagtail_render(self, name, value, attrs=attrs, renderer=renderer)
        nonce = current_csp_nonce()
        head, tag, tail = str(html).rpartition("<script>")
        if not nonce or not tag:
            return html
        # Wagtail's own markup, already safe; only the attribute is added.
        return mark_safe(f'{head}<script nonce="{nonce}">{tail}')

    render._fundportal_nonce = True
    BaseChooser.render = render


class PermissionsPolicyMiddleware:
    """Adds the ``Permissions-Policy`` header from ``settings.PERMISSIONS_POLICY``.

    The setting maps a browser feature to the origins that may use it (``[]``: nobody,
    ``["self"]``: our pages only); an empty mapping sends no header.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request):
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """``{"camera": [], "payment": ["self"]}`` → ``camera=(), payment=(self)``."""
    parts = []
    for feature, origins in policy.items():
        allowed = " ".join(origin if origin in ("self", "*") else f'"{origin}"' for origin in origins)
        parts.append(f"{feature}=({allowed})")
    return ", ".join(parts)
