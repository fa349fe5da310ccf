"""Applicant-facing views: eligibility, the form in steps, review and submit, files, dashboard,
answers asked for by the foundation (more information), versions, decision and timeline.

Views only translate HTTP into service calls; the rules live in ``grants.services``. One module
per responsibility; the names ``grants.urls`` and others use are re-exported here.
"""

from grants.display import answer_rows, sections_for
from grants.views.applications.dashboard import DASHBOARD_PER_PAGE, dashboard, grantee_awards
from grants.views.applications.detail import (
    application_detail,
    application_versions,
    application_withdraw,
    attachment_download,
)
from grants.views.applications.history import can_see_sensitive, timeline, version_changes, versions_context
from grants.views.applications.information import (
    editable_ids_for,
    first_step_for,
    information_request_for,
    named_questions,
)
from grants.views.applications.start import apply_start
from grants.views.applications.steps import application_review, application_section, application_submit
from grants.views.files import attachment_response

__all__ = [
    "DASHBOARD_PER_PAGE",
    "answer_rows",
    "application_detail",
    "application_review",
    "application_section",
    "application_submit",
    "application_versions",
    "application_withdraw",
    "apply_start",
    "attachment_download",
    "attachment_response",
    "can_see_sensitive",
    "dashboard",
    "editable_ids_for",
    "first_step_for",
    "grantee_awards",
    "information_request_for",
    "named_questions",
    "sections_for",
    "timeline",
    "version_changes",
    "versions_context",
]
