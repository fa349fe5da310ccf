"""Wagtail's site history, for superusers only.

Wagtail filters its site history by model permission, not by foundation: a program officer of one
foundation would read who changed which fund, call or message of every other foundation. Staff
read their own foundation's changes in *Activity*; the portal-wide log is for platform
administrators. These views take the place of Wagtail's at the same addresses (fundportal/urls.py).
"""

from functools import wraps

from wagtail.admin.auth import permission_denied, require_admin_access
from wagtail.admin.views.reports.audit_logging import LogEntriesView


def superusers_only(view):
    @require_admin_access
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_superuser:
            return permission_denied(request)
        return view(request, *args, **kwargs)

    return wrapped


site_history = superusers_only(LogEntriesView.as_view())
site_history_results = superusers_only(LogEntriesView.as_view(results_only=True))
