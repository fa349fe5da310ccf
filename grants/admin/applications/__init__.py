"""Officers' view of applications in Wagtail admin, one module per responsibility: the list
(``listing``), the detail (``inspect``), the review actions (``decisions``), batch decisions
(``batch``), staff-assisted intake (``intake``) and the viewset tying them to URLs (``viewset``).

Lists show no answers at all; the detail shows answers and attachments (answers to sensitive
questions are hidden from auditors). Every row is scoped to the user's foundations: an
application of another foundation is a 404.
"""

from grants.admin.applications.inspect import ACTIONS, ACTIVITY_LABELS
from grants.admin.applications.viewset import ApplicationViewSet

__all__ = ["ACTIONS", "ACTIVITY_LABELS", "ApplicationViewSet"]
