"""The matrix: for every URL pattern of the portal, what each role gets.

Outcomes (one word per role, in the order of ``ROLES``):

- ``OK``  200;
- ``LOG`` a redirect to the sign-in page (Wagtail's /admin/login/ or the public one);
- ``DEN`` refused: 403, or Wagtail admin's answer to PermissionDenied (a redirect to the dashboard
  with "Sorry, you do not have permission to access this area.");
- ``404`` not found (objects of another foundation or organization, areas not for this role);
- ``405`` method not allowed; ``RE`` another redirect (back to a page, with a message);
- ``2FA`` a redirect to the two-factor pages (a staff session without its second factor: never
  expected here, as the test signs staff in with it);
- any other status as its number (``400`` a refused form or a bad webhook signature, ``500``
  Wagtail's deliberate error page).

``ROWS`` lists every pattern of the project (grants, cms, allauth, language, simulated Stripe,
webhooks, media) with its GET and, for actions, POST outcome. Wagtail's own admin areas are
covered by ``WAGTAIL_RULES`` (keyed by pattern prefix): anonymous visitors and applicants are
sent to the admin sign-in for every one of them, and the staff columns are declared per area.
Each pattern resolves to exactly one entry: its row; else the rule naming the pattern; else the
rule with the longest matching prefix. A pattern named by two entries, a pattern with no entry,
and an entry whose pattern is gone all fail tests/test_url_matrix.py.

POST bodies are empty or invalid where that is enough for the view to refuse the content, so a
rightful person's POST changes nothing; each request runs in a savepoint that is rolled back.
"""

from dataclasses import dataclass, field

OK, LOGIN, DENIED, NOT_FOUND, NOT_ALLOWED, REDIRECT, MFA = "OK", "LOG", "DEN", "404", "405", "RE", "2FA"

ROLES = [
    "anonymous", "applicant_other_org", "applicant", "reviewer_unassigned", "reviewer_assigned",
    "officer_A", "finance_A", "auditor_A", "admin_A", "officer_B", "finance_B", "auditor_B",
]  # fmt: skip
STAFF = ROLES[3:]
OUTSIDERS = ROLES[:3]  # no admin access: anonymous and both applicants


def outcomes(text: str, *, size: int = len(ROLES)) -> tuple[str, ...]:
    values = tuple(text.split())
    assert len(values) == size, f"{len(values)} outcomes for {size} roles: {text!r}"
    return values


@dataclass(frozen=True)
class Row:
    """One URL pattern: how to fill its path, and what each role gets for GET (and POST)."""

    route: str
    get: str | None
    post: str | None = None
    args: dict = field(default_factory=dict)  # kwarg → dotted path into the world, or a literal
    data: dict = field(default_factory=dict)  # POST body
    url: str = ""  # for regex patterns: the URL to ask, with {world.path} fields
    note: str = ""
    fresh_cache: bool = False  # throttled views: forget earlier attempts before each request
    optional: bool = False  # only present in some configurations (e.g. DEBUG media serving)


@dataclass(frozen=True)
class Rule:
    """Wagtail's own admin: every pattern starting with one of ``prefixes`` (or equal to one of
    ``routes``); outsiders are sent to the admin sign-in, ``staff`` lists the nine staff roles'
    outcomes for GET (and ``post`` for POST, where the rule says)."""

    name: str
    staff: str
    prefixes: tuple = ()
    routes: tuple = ()
    post: str | None = None
    args: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    query: str = ""
    note: str = ""


def W(name, staff, *, prefixes=(), routes=(), post=None, args=None, data=None, query="", note=""):
    outcomes(staff, size=len(STAFF))
    if post is not None:
        outcomes(post, size=len(STAFF))
    return Rule(name, staff, tuple(prefixes), tuple(routes), post, args or {}, data or {}, query, note)


L = "<lang>/"

# Path arguments by name, for every pattern that does not say otherwise (dotted paths into the
# world fixture, tests/url_matrix/world.py; plain values are used as they are).
ARGS = {
    "call_id": "call.pk", "number": 1, "attachment_id": "attachment.pk", "foundation_slug": "foundation.slug",
    "fund_slug": "fund.slug", "organization_id": "org1.pk", "program_id": "program.pk",
    "volunteer_id": "volunteer.pk", "shift_id": "shift.pk", "due_id": "due.pk", "expenditure_id": "expenditure.pk",
    "invite_id": "invite.pk", "membership_id": "membership.pk", "foundation": "foundation.slug",
    "application_id": "application.pk", "installment_pk": "installment.pk", "fund_id": "fund.pk",
    "entry_id": "entry.pk", "batch_id": "batch.pk", "page_id": "fund_page.pk", "parent_page_id": "fund_page.pk",
    "page_to_move_id": "fund_page.pk", "destination_id": "home.pk", "revision_id": "fund_page.latest_revision_id",
    "image_id": "image.pk", "document_id": "document.pk", "doc_id": "document.pk", "redirect_id": "redirect.pk",
    "collection_id": "collection.pk", "workflow_pk": "workflow.pk", "page_pk": "fund_page.pk", "task_id": "task.pk",
    "content_type_app_name": "=cms", "content_type_model_name": "=fundingcallpage", "app_name": "=cms",
    "app_label": "=cms", "model_name": "=fundingcallpage", "uploaded_file_id": 1, "task_state_id": 1,
    "workflow_state_id": 1, "action_name": "=approve", "filter_spec": "=original", "object_id": "=1",
    "session_id": 1, "uidb64": "=MQ", "token": "=not-a-token", "restriction_id": 1,
    "page_view_restriction_id": 1, "pk": 1, "bond_id": "bond.pk", "partner_id": "bond_partner.pk",
}  # fmt: skip
# ``pk`` by the longest matching pattern prefix.
PK = {
    "admin/foundations/": "foundation.pk", "admin/funds/": "fund.pk", "admin/calls/": "call.pk",
    "admin/applications/": "application.pk", "admin/decision-messages/": "message.pk", "admin/awards/": "award.pk",
    "admin/payments/disbursements/": "disbursement.pk", "admin/donations/": "donation.pk",
    "admin/vendors/": "vendor_payment.pk", "admin/vendors/list/": "vendor.pk",
    "admin/donations/donors/": "donor.pk", "admin/exports/": "export.pk", "admin/users/": "users.applicant.pk",
    "admin/groups/": "role_group.pk", "admin/locales/": "locale.pk", "admin/sites/": "site_row.pk",
    "admin/collections/": "collection.pk", "admin/workflows/": "workflow.pk", "admin/workflows/tasks/": "task.pk",
    "admin/redirects/": "redirect.pk", "admin/documents/chooser/": "document.pk", "admin/images/chooser/": "image.pk",
    "admin/api/main/^pages/": "fund_page.pk", "admin/api/main/^documents/": "document.pk",
    "admin/api/main/^images/": "image.pk", "admin/translation/": "message.pk",
    f"{L}organizations/": "org1.pk", f"{L}applications/": "application.pk", f"{L}awards/": "award.pk",
}  # fmt: skip

# fmt: off
#          anon appX app  revU revA offA finA audA admA offB finB audB
EVERYONE = "OK   OK   OK   OK   OK   OK   OK   OK   OK   OK   OK   OK"
SIGNED_IN = "LOG  OK   OK   OK   OK   OK   OK   OK   OK   OK   OK   OK"
SIGNED_IN_RE = "LOG  RE   RE   RE   RE   RE   RE   RE   RE   RE   RE   RE"
SIGNED_IN_404 = "LOG  404  404  404  404  404  404  404  404  404  404  404"
ORG1 = "LOG  404  OK   404  404  404  404  404  404  404  404  404"  # the rightful applicant only
ORG1_RE = "LOG  404  RE   404  404  404  404  404  404  404  404  404"
ORG1_400 = "LOG  404  400  404  404  404  404  404  404  404  404  404"
ORG1_405 = "LOG  405  405  405  405  405  405  405  405  405  405  405"  # POST-only views, signed in
APPLICATION = "LOG  404  OK   404  404  OK   404  OK   OK   404  404  404"  # + A's officers, admin, auditor
RECEIPT = "LOG  404  OK   404  404  OK   OK   OK   OK   404  404  404"  # + A's finance
ANON_ONLY = "OK   RE   RE   RE   RE   RE   RE   RE   RE   RE   RE   RE"  # signed-in people are sent on
STAFF_OUT = "LOG  LOG  LOG"  # outsiders in Wagtail admin, before the staff columns
# fmt: on


def admin(staff: str) -> str:
    """A project admin row: outsiders are sent to the admin sign-in, then the staff columns."""
    outcomes(staff, size=len(STAFF))
    return f"{STAFF_OUT} {staff}"


# fmt: off
#                     revU revA offA finA audA admA offB finB audB
FOUNDATION_LIST = admin("DEN  DEN  OK   OK   OK   OK   OK   OK   OK")
ADMIN_ONLY_A    = admin("DEN  DEN  DEN  DEN  DEN  OK   DEN  DEN  DEN")
ADMIN_A_B404    = admin("DEN  DEN  DEN  DEN  DEN  OK   404  404  404")
NOBODY_B404     = admin("DEN  DEN  DEN  DEN  DEN  DEN  404  404  404")
NOBODY          = admin("DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN")
EDIT_FUND       = admin("DEN  DEN  OK   DEN  DEN  OK   404  DEN  DEN")
FUND_HISTORY    = admin("DEN  DEN  OK   DEN  DEN  OK   404  404  404")
APPS_LIST       = admin("DEN  DEN  OK   DEN  OK   OK   OK   DEN  OK")
APP_DETAIL      = admin("404  404  OK   404  OK   OK   404  404  404")
APP_ACTION_GET  = admin("404  404  405  404  405  405  404  404  404")
APP_ACTION      = admin("404  404  OK   404  DEN  OK   404  404  404")
INTAKE          = admin("404  404  OK   404  404  OK   OK   404  404")
OFFICERS        = admin("DEN  DEN  OK   DEN  DEN  OK   OK   DEN  DEN")
MY_REVIEWS      = admin("OK   OK   OK   DEN  DEN  OK   OK   DEN  DEN")
ASSIGNED        = admin("404  OK   404  404  404  404  404  404  404")
ASSIGNED_405    = admin("404  405  404  404  404  404  404  404  404")
ASSIGNED_RE     = admin("404  RE   404  404  404  404  404  404  404")
MESSAGES_LIST   = admin("DEN  DEN  OK   DEN  OK   OK   OK   DEN  OK")
MESSAGE_EDIT    = admin("DEN  DEN  OK   DEN  DEN  OK   404  DEN  DEN")
MESSAGE_OWN     = admin("DEN  DEN  OK   DEN  DEN  OK   404  404  404")
MESSAGE_DELETE  = admin("DEN  DEN  RE   DEN  DEN  RE   404  404  404")
AWARD_LIST      = admin("DEN  DEN  OK   OK   OK   OK   OK   OK   OK")
MONEY_LIST      = admin("404  404  OK   OK   OK   OK   OK   OK   OK")
MONEY_A         = admin("404  404  OK   OK   OK   OK   404  404  404")
MONEY_A_405     = admin("404  404  405  405  405  405  404  404  404")
MAKE_AWARD      = admin("404  404  OK   404  DEN  OK   404  404  404")
MAKE_AWARD_400  = admin("404  404  400  404  DEN  400  404  404  404")
PROGRAM_NEW     = admin("404  404  OK   404  404  OK   OK   404  404")
PROGRAM_NEW_400 = admin("404  404  400  404  404  400  400  404  404")
OFFICER_A       = admin("404  404  OK   DEN  DEN  OK   404  404  404")
OFFICER_A_400   = admin("404  404  400  DEN  DEN  400  404  404  404")
OFFICER_A_RE    = admin("404  404  RE   DEN  DEN  RE   404  404  404")
FINANCE_A       = admin("404  404  DEN  OK   DEN  OK   404  404  404")
FINANCE_A_400   = admin("404  404  DEN  400  DEN  400  404  404  404")
NONE_404        = admin("404  404  404  404  404  404  404  404  404")
NONE_405        = admin("404  404  405  405  405  405  405  405  405")
PAY_LIST        = admin("404  404  404  OK   OK   OK   404  OK   OK")
PAY_LIST_405    = admin("404  404  404  405  405  405  404  405  405")
PAY_A           = admin("404  404  404  OK   OK   OK   404  404  404")
PAY_A_405       = admin("404  404  404  405  405  405  404  404  404")
RELEASERS_RE    = admin("404  404  404  RE   404  RE   404  RE   404")
RELEASERS_405   = admin("404  404  404  405  404  405  404  405  404")
RECORD_GIFT     = admin("404  404  404  OK   404  OK   404  OK   404")
RECORD_GIFT_400 = admin("404  404  404  400  404  400  404  400  404")
RESEND          = admin("404  404  404  RE   DEN  RE   404  404  404")
CHECK_WITH_STRIPE = admin("404  404  404  RE   DEN  RE   404  404  404")
AWARD_LIST_404  = admin("404  404  OK   OK   OK   OK   OK   OK   OK")
OFFICER_A_405   = admin("404  404  405  DEN  DEN  405  404  404  404")
FINANCE_A_405   = admin("404  404  DEN  405  DEN  405  404  404  404")
FINANCE_A_RE    = admin("404  404  DEN  RE   DEN  RE   404  404  404")
VENDOR_CANCEL_405 = admin("404  404  405  405  DEN  405  404  404  404")
VENDOR_CANCEL_RE = admin("404  404  RE   RE   DEN  RE   404  404  404")
FINANCE_ANY_400 = admin("404  404  DEN  400  DEN  400  DEN  400  DEN")

REAPPLY         = admin("404  404  404  OK   404  OK   404  404  404")
REAPPLY_POST    = admin("404  404  404  RE   404  RE   404  404  404")
REPORT_AREA     = admin("404  404  OK   OK   OK   OK   OK   OK   OK")
REPORT_A        = admin("404  404  OK   OK   OK   OK   404  404  404")
EXPORT_400      = admin("404  404  404  400  400  400  404  400  400")
PRIVACY_LIST    = admin("404  404  404  404  OK   OK   404  404  OK")
PRIVACY_405     = admin("404  404  404  404  405  405  404  404  405")
PRIVACY_A       = admin("404  404  404  404  OK   OK   404  404  404")
# Bonds: VIEW_BONDS (officer, finance, auditor, admin) of the bond's foundation; reviewers none.
BONDS_LIST      = admin("404  404  OK   OK   OK   OK   OK   OK   OK")
BOND_A          = admin("404  404  OK   OK   OK   OK   404  404  404")
BOND_A_405      = admin("404  404  405  405  405  405  404  404  404")
BOND_DECIDE_RE  = admin("404  404  RE   DEN  DEN  RE   404  404  404")
BOND_DECIDE_400 = admin("404  404  400  DEN  DEN  400  404  404  404")
BOND_MANAGE_400 = admin("404  404  DEN  400  DEN  400  404  404  404")
BOND_REFERENCE  = admin("404  404  DEN  RE   DEN  DEN  404  404  404")
BOND_PARTNERS_400 = admin("404  404  400  DEN  DEN  400  400  DEN  DEN")
# fmt: on

ROWS = [
    # --- Foundations, funds, calls (Wagtail model viewsets scoped to the user's foundations) ---
    Row("admin/foundations/", FOUNDATION_LIST),
    Row("admin/foundations/results/", FOUNDATION_LIST),
    Row("admin/foundations/new/", NOBODY),
    Row("admin/foundations/edit/<int:pk>/", ADMIN_ONLY_A, ADMIN_ONLY_A),
    Row("admin/foundations/delete/<int:pk>/", NOBODY_B404, NOBODY_B404),
    Row("admin/foundations/history/<int:pk>/", ADMIN_A_B404),
    Row("admin/foundations/history-results/<int:pk>/", ADMIN_A_B404),
    Row("admin/foundations/usage/<int:pk>/", ADMIN_A_B404),
    Row("admin/foundations/copy/<int:pk>/", NOBODY),
    Row("admin/funds/", FOUNDATION_LIST),
    Row("admin/funds/results/", FOUNDATION_LIST),
    Row("admin/funds/new/", OFFICERS, OFFICERS),
    Row("admin/funds/edit/<int:pk>/", EDIT_FUND, EDIT_FUND),
    Row("admin/funds/delete/<int:pk>/", NOBODY_B404, NOBODY_B404),
    Row("admin/funds/history/<int:pk>/", FUND_HISTORY),
    Row("admin/funds/history-results/<int:pk>/", FUND_HISTORY),
    Row("admin/funds/usage/<int:pk>/", FUND_HISTORY),
    Row("admin/funds/copy/<int:pk>/", EDIT_FUND),
    Row("admin/calls/", FOUNDATION_LIST),
    Row("admin/calls/results/", FOUNDATION_LIST),
    Row("admin/calls/new/", OFFICERS, OFFICERS),
    Row("admin/calls/edit/<int:pk>/", EDIT_FUND, EDIT_FUND),
    Row("admin/calls/delete/<int:pk>/", NOBODY_B404, NOBODY_B404),
    Row("admin/calls/history/<int:pk>/", FUND_HISTORY),
    Row("admin/calls/history-results/<int:pk>/", FUND_HISTORY),
    Row("admin/calls/usage/<int:pk>/", FUND_HISTORY),
    Row("admin/calls/copy/<int:pk>/", EDIT_FUND),
    # --- Applications in admin ---
    Row("admin/applications/", APPS_LIST),
    Row("admin/applications/results/", APPS_LIST),
    Row("admin/applications/inspect/<int:pk>/", APP_DETAIL),
    Row("admin/applications/inspect/<int:pk>/compare/", APP_DETAIL),
    Row("admin/applications/inspect/<int:pk>/do/<slug:action>/", APP_ACTION_GET, APP_ACTION,
        args={"action": "=comment"}, data={"comment-text": ""}),
    Row("admin/applications/intake/", INTAKE, INTAKE),
    Row("admin/applications/batch/", OFFICERS, OFFICERS, data={"action": "approve"}),
    # The model viewset's generic views: nobody holds add/change/delete on applications.
    Row("admin/applications/new/", NOBODY, NOBODY),
    Row("admin/applications/edit/<int:pk>/", NOBODY, NOBODY),
    Row("admin/applications/delete/<int:pk>/", NOBODY, NOBODY),
    Row("admin/applications/history/<int:pk>/", NOBODY),
    Row("admin/applications/history-results/<int:pk>/", NOBODY),
    Row("admin/applications/usage/<int:pk>/", NOBODY),
    Row("admin/applications/copy/<int:pk>/", NOBODY),
    # --- Reviews and decision messages ---
    Row("admin/reviews/", MY_REVIEWS),
    Row("admin/reviews/<int:application_id>/", ASSIGNED),
    Row("admin/reviews/<int:application_id>/declare/", ASSIGNED_405, ASSIGNED, data={"conflict": ""}),
    Row("admin/reviews/<int:application_id>/score/", ASSIGNED_405, ASSIGNED_RE, data={"action": "save"}),
    Row("admin/reviews/<int:application_id>/files/<int:attachment_id>/", ASSIGNED),
    Row("admin/decision-messages/", MESSAGES_LIST),
    Row("admin/decision-messages/results/", MESSAGES_LIST),
    Row("admin/decision-messages/new/", OFFICERS, OFFICERS),
    Row("admin/decision-messages/edit/<int:pk>/", MESSAGE_EDIT, MESSAGE_EDIT),
    Row("admin/decision-messages/delete/<int:pk>/", MESSAGE_OWN, MESSAGE_DELETE,
        note="an officer's POST deletes it (rolled back): there is no harmless body"),
    Row("admin/decision-messages/history/<int:pk>/", MESSAGE_OWN),
    Row("admin/decision-messages/history-results/<int:pk>/", MESSAGE_OWN),
    Row("admin/decision-messages/usage/<int:pk>/", MESSAGE_OWN),
    # --- Awards and fund money ---
    Row("admin/awards/", AWARD_LIST),
    Row("admin/awards/results/", AWARD_LIST),
    Row("admin/awards/inspect/<int:pk>/", MONEY_A),
    Row("admin/awards/inspect/<int:pk>/do/<slug:action>/", MONEY_A_405,
        admin("404  404  400  DEN  DEN  400  404  404  404"), args={"action": "=amend"}),
    Row("admin/awards/inspect/<int:pk>/answer-document/", MONEY_A, note="the signed paper a group gave"),
    Row("admin/awards/inspect/<int:pk>/payments/<int:installment_pk>/<slug:action>/", MONEY_A_405,
        admin("404  404  400  400  DEN  400  404  404  404"), args={"action": "=hold"}),
    Row("admin/awards/make/<int:application_id>/", MAKE_AWARD, MAKE_AWARD_400, args={"application_id": "waiting.pk"}),
    Row("admin/fund-money/", MONEY_LIST),
    Row("admin/fund-money/<int:fund_id>/", MONEY_A),
    Row("admin/fund-money/<int:fund_id>/<slug:action>/", MONEY_A_405,
        admin("404  404  DEN  400  DEN  400  404  404  404"), args={"action": "=income"}),
    Row("admin/fund-money/<int:fund_id>/entries/<int:entry_id>/reverse/", MONEY_A_405,
        admin("404  404  DEN  400  DEN  400  404  404  404")),
    # --- Stipends ---
    Row("admin/stipends/", MONEY_LIST),
    Row("admin/stipends/new/", PROGRAM_NEW, PROGRAM_NEW_400),
    Row("admin/stipends/<int:program_id>/", MONEY_A, OFFICER_A_400),
    Row("admin/stipends/<int:program_id>/edit/", OFFICER_A, OFFICER_A_400),
    Row("admin/stipends/batches/<int:batch_id>/", MONEY_A, admin("404  404  404  404  404  404  404  404  404")),
    Row("admin/stipends/batches/<int:batch_id>/approve/", OFFICER_A, OFFICER_A_RE),
    Row("admin/stipends/batches/<int:batch_id>/cancel/", OFFICER_A, OFFICER_A_RE),
    Row("admin/stipends/batches/<int:batch_id>/pay/", FINANCE_A, FINANCE_A_400),
    # --- Payments ---
    Row("admin/payments/", PAY_LIST),
    Row("admin/payments/review/", RELEASERS_RE, RELEASERS_405, note="nothing selected: back to the list"),
    Row("admin/payments/release/", RELEASERS_405, RELEASERS_RE),
    Row("admin/payments/results/<slug:token>/", NONE_404, note="results of a release nobody made"),
    Row("admin/payments/disbursements/", PAY_LIST),
    Row("admin/payments/disbursements/<int:pk>/", PAY_A),
    Row("admin/payments/disbursements/<int:pk>/check/", PAY_A_405, CHECK_WITH_STRIPE,
        note="a paid payment: nothing to ask, back to it"),
    Row("admin/payments/reconciliation/", PAY_LIST),
    Row("admin/payments/webhooks/", PAY_LIST),
    Row("admin/payments/webhooks/<int:pk>/reapply/", REAPPLY, REAPPLY_POST, args={"pk": "flagged_event.pk"},
        note="finance and admins of the event's foundation; the POST applies it again (rolled back)"),
    Row("admin/payments/payees/", PAY_LIST),
    # --- Vendor payments (staff who see awards; officers decide, finance pays, four eyes) ---
    Row("admin/vendors/", AWARD_LIST_404),
    Row("admin/vendors/new/", PROGRAM_NEW, PROGRAM_NEW_400, note="an empty form is refused"),
    Row("admin/vendors/<int:pk>/", MONEY_A),
    Row("admin/vendors/<int:pk>/approve/", OFFICER_A_405, OFFICER_A_RE,
        note="an officer's POST approves it (rolled back)"),
    Row("admin/vendors/<int:pk>/decline/", OFFICER_A_405, OFFICER_A_400, note="no reason: refused"),
    Row("admin/vendors/<int:pk>/cancel/", VENDOR_CANCEL_405, VENDOR_CANCEL_RE,
        note="officers and finance cancel it (rolled back)"),
    Row("admin/vendors/<int:pk>/release/", FINANCE_A_405, FINANCE_A_RE, note="not approved: refused, back to it"),
    Row("admin/vendors/<int:pk>/check/", FINANCE_A_405, FINANCE_A_400, note="no check number: refused"),
    Row("admin/vendors/<int:pk>/invoice/", MONEY_A, note="the private invoice, logged"),
    Row("admin/vendors/list/", AWARD_LIST_404, FINANCE_ANY_400, note="finance adds vendors; an empty form is refused"),
    Row("admin/vendors/list/<int:pk>/onboarding/", FINANCE_A_405, FINANCE_A_RE,
        note="a vendor paid by check needs no Stripe link: refused, back to the list"),
    # --- Donations ---
    Row("admin/donations/", PAY_LIST),
    Row("admin/donations/record/", RECORD_GIFT, RECORD_GIFT_400),
    Row("admin/donations/<int:pk>/", PAY_A),
    Row("admin/donations/<int:pk>/resend-receipt/", PAY_LIST_405, RESEND),
    Row("admin/donations/<int:pk>/void/", PAY_LIST_405, RESEND,
        note="no reason given (and a Stripe gift is refunded, not voided): back to the gift"),
    Row("admin/donations/donors/<int:pk>/", PAY_A),
    # --- Spending reports ---
    Row("admin/reports/", REPORT_AREA),
    Row("admin/reports/<int:due_id>/", REPORT_A),
    Row("admin/reports/<int:due_id>/accept/", OFFICER_A, OFFICER_A_400),
    Row("admin/reports/<int:due_id>/changes/", OFFICER_A, OFFICER_A_400),
    Row("admin/reports/<int:due_id>/returns/", FINANCE_A, admin("404  404  DEN  404  DEN  404  404  404  404"),
        note="no return was announced: finance's POST finds nothing to confirm"),
    Row("admin/reports/results/", REPORT_AREA),
    Row("admin/reports/results/<int:fund_id>/", REPORT_A),
    # --- Activity and exports ---
    Row("admin/activity/", PAY_LIST),
    Row("admin/exports/", PAY_LIST, EXPORT_400),
    Row("admin/exports/<int:pk>/", PAY_A),
    Row("admin/exports/<int:pk>/download/", PAY_A),
    # --- Bonds in admin: another foundation's bonds and partners are 404 ---
    Row("admin/bonds/", BONDS_LIST),
    Row("admin/bonds/partners/", BONDS_LIST, BOND_PARTNERS_400, note="an empty form: refused with its errors"),
    Row("admin/bonds/partners/<int:partner_id>/remove/", BOND_A_405, BOND_DECIDE_RE,
        note="the officer's POST removes the partner (rolled back)"),
    Row("admin/bonds/<int:bond_id>/", BOND_A),
    Row("admin/bonds/<int:bond_id>/approve/", BOND_A_405, BOND_DECIDE_RE, note="approves the request (rolled back)"),
    Row("admin/bonds/<int:bond_id>/decline/", BOND_A_405, BOND_DECIDE_400, note="no reason given"),
    Row("admin/bonds/<int:bond_id>/post/", BOND_A_405, BOND_MANAGE_400, args={"bond_id": "bond_approved.pk"},
        note="no method given"),
    Row("admin/bonds/<int:bond_id>/resend/", BOND_A_405, BOND_MANAGE_400, args={"bond_id": "bond_approved.pk"},
        note="no transfer was sent for this bond"),
    Row("admin/bonds/<int:bond_id>/cancel/", BOND_A_405, BOND_MANAGE_400, args={"bond_id": "bond_posted.pk"}),
    Row("admin/bonds/<int:bond_id>/refund/", BOND_A_405, BOND_MANAGE_400, args={"bond_id": "bond_posted.pk"}),
    Row("admin/bonds/<int:bond_id>/breach/", BOND_A_405, BOND_MANAGE_400, args={"bond_id": "bond_posted.pk"}),
    Row("admin/bonds/<int:bond_id>/reference/", BOND_A_405, BOND_REFERENCE, args={"bond_id": "bond_posted.pk"},
        note="finance only; an empty reference is saved as empty (rolled back)"),
    # --- Privacy (access log, deletion requests, retention) and Stripe keys ---
    Row("admin/privacy/", PRIVACY_LIST),
    Row("admin/privacy/preview/", PRIVACY_405, admin("404  404  404  404  DEN  OK   404  404  DEN"),
        note="a dry run of the retention rule: reads only"),
    Row("admin/privacy/access/", PRIVACY_LIST),
    Row("admin/privacy/requests/<int:pk>/", PRIVACY_A, args={"pk": "deletion.pk"}),
    Row("admin/privacy/requests/<int:pk>/approve/", PRIVACY_A, admin("404  404  404  404  DEN  OK   404  404  404"),
        args={"pk": "deletion.pk"}, note="not confirmed: the page again"),
    Row("admin/privacy/requests/<int:pk>/reject/", PRIVACY_A, admin("404  404  404  404  DEN  400  404  404  404"),
        args={"pk": "deletion.pk"}, data={"reason": ""}),
    Row("admin/stripe-keys/", admin("DEN  DEN  DEN  DEN  DEN  RE   DEN  DEN  DEN"),
        note="an admin of one foundation goes straight to its keys"),
    Row("admin/stripe-keys/<int:foundation_id>/", admin("DEN  DEN  DEN  DEN  DEN  OK   404  404  404"),
        admin("DEN  DEN  DEN  DEN  DEN  RE   404  404  404"), args={"foundation_id": "foundation.pk"},
        note="keys are write-only: an empty form keeps the stored ones"),
    Row("admin/emails/", admin("DEN  DEN  DEN  DEN  DEN  OK   DEN  DEN  DEN"),
        note="foundation admins see their foundation's messages; superusers every one"),
    Row("admin/emails/<int:pk>/send-again/", admin("405  405  405  405  405  405  405  405  405"),
        admin("DEN  DEN  DEN  DEN  DEN  RE   DEN  DEN  DEN"), args={"pk": "email.pk"},
        note="a sent message is not sent again: back to the list with a message"),
    Row("admin/add-foundation/", admin("DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN"),
        admin("DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN"),
        note="the platform administrator (superuser) only: no foundation staff, not even its admins"),
    # --- Public site: language, branding, simulated Stripe, webhooks ---
    Row("language/", "RE " * 12),
    Row("branding.css", EVERYONE),
    Row("simulated-stripe/onboarding/<str:account_id>/", EVERYONE, EVERYONE, args={"account_id": "payee.stripe_account_id"},
        note="Stripe's hosted page: the account id in the link is the key, as at Stripe"),
    Row("simulated-stripe/checkout/<str:session_id>/", EVERYONE, "RE " * 12,
        args={"session_id": "pending_donation.checkout_session_id"}, data={"cancel": "1"},
        note="Stripe Checkout: the session id is the key; cancelling goes back to the form"),
    Row("stripe/webhooks/<slug:foundation>/", "405 " * 12, "400 " * 12, note="no signature: 400, nothing stored"),
    Row("stripe/webhooks/<slug:foundation>/connect/", "405 " * 12, "400 " * 12),
    # --- Accounts (allauth and the one-time sign-in link) ---
    Row(f"{L}accounts/login/link/<str:token>/", "400 " * 12, "400 " * 12, fresh_cache=True),
    Row(f"{L}accounts/login/", ANON_ONLY, ANON_ONLY),
    Row(f"{L}accounts/logout/", "RE   OK   OK   OK   OK   OK   OK   OK   OK   OK   OK   OK", "RE " * 12),
    Row(f"{L}accounts/inactive/", EVERYONE),
    Row(f"{L}accounts/signup/", ANON_ONLY, ANON_ONLY),
    Row(f"{L}accounts/reauthenticate/", SIGNED_IN),
    Row(f"{L}accounts/email/", SIGNED_IN, SIGNED_IN_RE),
    Row(f"{L}accounts/confirm-email/", EVERYONE),
    Row(f"{L}accounts/^confirm-email/(?P<key>[-:\\w]+)/$", EVERYONE, url="/en/accounts/confirm-email/not-a-key/"),
    Row(f"{L}accounts/password/change/", SIGNED_IN),
    Row(f"{L}accounts/password/set/", SIGNED_IN_RE),
    Row(f"{L}accounts/password/reset/", EVERYONE),
    Row(f"{L}accounts/password/reset/done/", EVERYONE),
    Row(f"{L}accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$", EVERYONE,
        url="/en/accounts/password/reset/key/1-not-a-key/"),
    Row(f"{L}accounts/password/reset/key/done/", EVERYONE),
    Row(f"{L}accounts/login/code/", ANON_ONLY),
    Row(f"{L}accounts/login/code/confirm/", SIGNED_IN_RE),
    # Two-factor authentication (allauth): the test users have no authenticator app yet.
    Row(f"{L}accounts/2fa/", SIGNED_IN),
    Row(f"{L}accounts/2fa/authenticate/", SIGNED_IN_RE, note="no sign-in waiting for a code: on to the dashboard"),
    Row(f"{L}accounts/2fa/reauthenticate/", SIGNED_IN_RE),
    Row(f"{L}accounts/2fa/totp/activate/", SIGNED_IN_RE, note="asks for the password again first"),
    Row(f"{L}accounts/2fa/totp/deactivate/", SIGNED_IN_404, note="no app to remove"),
    Row(f"{L}accounts/2fa/recovery-codes/", SIGNED_IN_404),
    Row(f"{L}accounts/2fa/recovery-codes/generate/", SIGNED_IN_RE),
    Row(f"{L}accounts/2fa/recovery-codes/download/", SIGNED_IN_404),
    Row(f"{L}accounts/2fa/webauthn/", SIGNED_IN, note="security keys and passkeys: one's own list"),
    Row(f"{L}accounts/2fa/webauthn/add/", SIGNED_IN_RE, SIGNED_IN_RE, note="asks for the password again first"),
    Row(f"{L}accounts/2fa/webauthn/reauthenticate/", SIGNED_IN_RE, note="no key to confirm with"),
    Row(f"{L}accounts/2fa/webauthn/keys/<int:pk>/remove/", SIGNED_IN_RE, SIGNED_IN_RE,
        args={"pk": "security_key.pk"},
        note="someone else's key: the password first, then 404 (tests/grants/test_security_keys.py)"),
    Row(f"{L}accounts/2fa/webauthn/keys/<int:pk>/edit/", SIGNED_IN_RE, SIGNED_IN_RE,
        args={"pk": "security_key.pk"},
        note="someone else's key: the password first, then 404 (tests/grants/test_security_keys.py)"),
    # --- Organizations ---
    Row(f"{L}organizations/", SIGNED_IN),
    Row(f"{L}organizations/new/", SIGNED_IN, SIGNED_IN),
    Row(f"{L}organizations/invites/<invite_token:token>/", "OK   DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN",
        "LOG  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN", args={"token": "invite.token"},
        note="for the invited address only; the visitor is asked to sign in first"),
    Row(f"{L}organizations/<int:pk>/", ORG1),
    Row(f"{L}organizations/<int:pk>/edit/", ORG1, ORG1),
    Row(f"{L}organizations/<int:pk>/invite/", ORG1_405, ORG1_400),
    Row(f"{L}organizations/<int:pk>/invites/<int:invite_id>/revoke/", ORG1_405, ORG1_RE,
        note="the owner's POST revokes it (rolled back)"),
    Row(f"{L}organizations/<int:pk>/members/<int:membership_id>/remove/", ORG1_405, ORG1_RE,
        note="the owner's POST removes the member (rolled back)"),
    Row(f"{L}organizations/<int:pk>/data/", ORG1, ORG1_405, note="the organization's data as a download"),
    Row(f"{L}organizations/<int:pk>/delete/", ORG1, ORG1_400, note="not confirmed: the page again"),
    # --- Bonds (partner side): members of a bond partner only ---
    Row(f"{L}organizations/<int:pk>/bonds/", ORG1),
    Row(f"{L}organizations/<int:pk>/bonds/new/", ORG1, ORG1_400, note="an empty request: the form again"),
    Row(f"{L}organizations/<int:pk>/bonds/<int:bond_id>/withdraw/", ORG1_405, ORG1_RE,
        note="the partner's POST withdraws its request (rolled back)"),
    # --- Applying ---
    Row(f"{L}dashboard/", SIGNED_IN),
    Row(f"{L}apply/<int:call_id>/", SIGNED_IN, "LOG  400  400  400  400  400  400  400  400  400  400  400"),
    Row(f"{L}applications/<int:pk>/", APPLICATION),
    Row(f"{L}applications/<int:pk>/step/<int:number>/", ORG1, ORG1_RE, args={"pk": "draft.pk"}),
    Row(f"{L}applications/<int:pk>/review/", ORG1, args={"pk": "draft.pk"}),
    Row(f"{L}applications/<int:pk>/submit/", ORG1_405, ORG1_RE, args={"pk": "draft.pk"},
        note="the draft is incomplete: back to the review page with the problems"),
    Row(f"{L}applications/<int:pk>/withdraw/", ORG1, ORG1_RE, note="the applicant's POST withdraws (rolled back)"),
    Row(f"{L}applications/<int:pk>/versions/", APPLICATION),
    Row(f"{L}applications/<int:pk>/files/<int:attachment_id>/", APPLICATION),
    # --- Awards, payouts, stipends, reports (grantee side) ---
    Row(f"{L}awards/<int:pk>/", ORG1),
    Row(f"{L}awards/<int:pk>/accept/", ORG1_RE, ORG1_400, note="already accepted"),
    Row(f"{L}awards/<int:pk>/decline/", ORG1, ORG1_RE, note="already accepted: refused with a message"),
    Row(f"{L}awards/<int:pk>/vendor-payments/", ORG1_405, ORG1_400,
        note="a member's empty request is refused with the form again"),
    Row(f"{L}awards/<int:pk>/return/", ORG1, ORG1_400),
    Row(f"{L}payouts/<slug:foundation_slug>/<int:organization_id>/", ORG1, ORG1_RE,
        note="the POST opens Stripe's onboarding for the org's existing account"),
    Row(f"{L}stipends/", SIGNED_IN),
    Row(f"{L}stipends/<int:program_id>/<int:organization_id>/", ORG1),
    Row(f"{L}stipends/<int:program_id>/<int:organization_id>/volunteers/", ORG1, ORG1_400),
    Row(f"{L}stipends/<int:program_id>/<int:organization_id>/volunteers/<int:volunteer_id>/payouts/", ORG1_405,
        ORG1_RE),
    Row(f"{L}stipends/<int:program_id>/<int:organization_id>/volunteers/<int:volunteer_id>/active/", ORG1_405,
        ORG1_RE),
    Row(f"{L}stipends/<int:program_id>/<int:organization_id>/shifts/new/", ORG1, ORG1_400),
    Row(f"{L}stipends/<int:program_id>/<int:organization_id>/shifts/import/", ORG1, ORG1_400),
    Row(f"{L}stipends/<int:program_id>/<int:organization_id>/shifts/<int:shift_id>/delete/", ORG1_405, ORG1_RE,
        note="the shift is in a computed month: refused with a message"),
    Row(f"{L}reports/<int:due_id>/", ORG1, ORG1_RE),
    Row(f"{L}reports/<int:due_id>/receipts/<int:expenditure_id>/", RECEIPT),
    # --- Donations and transparency (public) ---
    Row(f"{L}donate/thanks/", EVERYONE),
    Row(f"{L}donate/manage/", EVERYONE, EVERYONE),
    Row(f"{L}donate/manage/<str:token>/", EVERYONE, "RE " * 12, args={"token": "manage_token"},
        note="the donor's signed link is the key"),
    Row(f"{L}donate/<slug:foundation_slug>/<slug:fund_slug>/", EVERYONE, EVERYONE),
    Row(f"{L}transparency/<slug:foundation_slug>/", EVERYONE),
    Row(f"{L}transparency/<slug:foundation_slug>/<slug:fund_slug>/", EVERYONE),
    # --- Wagtail's public side and admin entry points ---
    Row(f"{L}^((?:[\\w\\-]+/)*)$", EVERYONE, url="/en/", note="the published home page"),
    Row(f"{L}_util/login/", "404 " * 12, note="Wagtail's sign-in for private pages is switched off"),
    Row(f"{L}_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/", "404 " * 12),
    Row("documents/^(\\d+)/(.*)$", EVERYONE, url="/documents/{document.pk}/{document.filename}",
        note="CMS documents (guides linked from pages) are public; applicants' files are never documents"),
    Row("documents/authenticate_with_password/<int:restriction_id>/", "404 " * 12),
    Row("admin/login/", "LOG  DEN  DEN  RE   RE   RE   RE   RE   RE   RE   RE   RE",
        note="everyone signs in on the public sign-in page; staff already signed in go to the dashboard"),
    Row("admin/password_reset/", "404 " * 12),
    Row("admin/password_reset/done/", "404 " * 12),
    Row("admin/password_reset/confirm/<uidb64>/<token>/", "404 " * 12),
    Row("admin/password_reset/complete/", "404 " * 12),
    Row("admin/sprite/", EVERYONE),
    Row("admin/^.*/$", admin("404  404  404  404  404  404  404  404  404"), url="/admin/no-such-area/"),
    Row("admin/pages/^(?P<pk>\\d+)/revisions/compare/(?P<revision_id_a>live|earliest|\\d+)\\.\\.\\."
        "(?P<revision_id_b>live|latest|\\d+)/$", admin("DEN  DEN  OK   DEN  DEN  OK   404  404  404"),
        url="/admin/pages/{fund_page.pk}/revisions/compare/earliest...live/"),
    Row("admin/jsi18n/", EVERYONE),
    Row("^media/(?P<path>.*)$", EVERYONE, url="/media/{image.file.name}", optional=True,
        note="only with DEBUG on (the demo); public images only, private files live elsewhere"),
]  # fmt: skip

# fmt: off
#                    revU revA offA finA audA admA offB finB audB
ALL_STAFF    = "OK   OK   OK   OK   OK   OK   OK   OK   OK"
EDITORS      = "DEN  DEN  OK   DEN  DEN  OK   OK   DEN  DEN"  # officers and admins of any foundation
EDITORS_A    = "DEN  DEN  OK   DEN  DEN  OK   404  404  404"  # A's page: A's editors; B's staff 404
EDITORS_OWN  = "DEN  DEN  OK   DEN  DEN  OK   DEN  DEN  DEN"  # A's image or document (Wagtail refuses)
CHOOSERS_OWN = "DEN  DEN  OK   DEN  OK   OK   DEN  DEN  DEN"  # ... and A's auditor may choose it
STAFF_A      = "OK   OK   OK   OK   OK   OK   404  404  404"  # names A's page: B's staff 404
SUPERUSERS   = "DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN  DEN"  # nobody but superusers
SUPERUSERS_A = "DEN  DEN  DEN  DEN  DEN  DEN  404  404  404"  # ... and A's page is 404 to B's staff
ALL_404      = "404  404  404  404  404  404  404  404  404"
ALL_405      = "405  405  405  405  405  405  405  405  405"
ALL_405_A    = "405  405  405  405  405  405  404  404  404"  # POST-only, naming A's page
# fmt: on

P = "admin/pages/"
# fmt: off
WAGTAIL_RULES = [
    W("dashboard, account", ALL_STAFF, routes=["admin/", "admin/test404/", "admin/account/", "admin/dismissibles/"]),
    W("deliberate error page", "500 " * 9, routes=["admin/failwhale/"]),
    W("POST-only endpoints", ALL_405, routes=[
        "admin/logout/", "admin/workflows/enable/<int:pk>/", "admin/workflows/tasks/enable/<int:pk>/",
        "admin/documents/multiple/<int:doc_id>/",
        "admin/documents/multiple/create_from_uploaded_document/<int:uploaded_file_id>/",
        "admin/documents/multiple/<int:doc_id>/delete/", "admin/documents/multiple/delete_upload/<int:uploaded_file_id>/",
        "admin/images/multiple/<int:image_id>/", "admin/images/multiple/create_from_uploaded_image/<int:uploaded_file_id>/",
        "admin/images/multiple/<int:image_id>/delete/", "admin/images/multiple/delete_upload/<int:uploaded_file_id>/",
        "admin/editing-sessions/ping/<str:app_label>/<str:model_name>/<str:object_id>/<int:session_id>/",
        "admin/editing-sessions/release/<int:session_id>/"]),
    W("POST-only endpoints naming A's page: B's staff 404 (cms.admin_scope)", ALL_405_A, routes=[
        f"{P}<int:page_to_move_id>/set_position/", "admin/workflows/remove/<int:page_pk>/",
        "admin/workflows/remove/<int:page_pk>/<int:workflow_pk>/", "admin/api/main/^pages/<int:pk>/action/<str:action_name>/"]),
    W("choosers and link forms (what they list is filtered by permission and cms.admin_scope)", ALL_STAFF,
      prefixes=["admin/choose-", "admin/embeds/chooser/", "admin/workflows/task_chooser/"],
      routes=["admin/tag-autocomplete/", "admin/documents/chooser/", "admin/documents/chooser/results/",
              "admin/documents/chooser/chosen-multiple/", "admin/images/chooser/", "admin/images/chooser/results/",
              "admin/images/chooser/chosen-multiple/"]),
    W("the page chooser opened at A's page; the cancel-workflow form of A's page: B's staff 404", STAFF_A,
      routes=["admin/choose-page/<int:parent_page_id>/", f"{P}workflow/confirm_cancellation/<int:page_id>/"]),
    W("choosing a page type: the only parent an editor may use is chosen for them", "OK   OK   RE   OK   OK   RE   RE   OK   OK",
      routes=[f"{P}create/<slug:app_label>/<slug:model_name>"]),
    W("page tree and search: editors of any foundation (listing their own sections only)", EDITORS,
      prefixes=[f"{P}search/", f"{P}usage/"], routes=[P, "admin/forms/", "admin/forms/results/"]),
    W("Wagtail's page reports: superusers only, 404 (their filters name people and pages of every foundation)",
      ALL_404, prefixes=["admin/reports/workflow", "admin/reports/aging-pages/", "admin/reports/page-types-usage/",
                         "admin/reports/locked/"]),
    W("A's page (its section holds A's page permissions): A's editors; B's staff 404", EDITORS_A,
      routes=[f"{P}<int:parent_page_id>/", f"{P}<int:parent_page_id>/results/", f"{P}<int:page_id>/usage/",
              f"{P}add/<slug:content_type_app_name>/<slug:content_type_model_name>/<int:parent_page_id>/preview/",
              f"{P}<int:page_id>/edit/preview/", f"{P}<int:page_to_move_id>/move/",
              f"{P}<int:page_id>/view_draft/", f"{P}<int:page_id>/revisions/<int:revision_id>/view/",
              f"{P}<int:page_id>/revisions/<int:revision_id>/unschedule/", f"{P}<int:page_id>/history/",
              f"{P}<int:page_id>/history/results/", f"{P}<int:page_id>/workflow_history/",
              f"{P}<int:page_id>/edit/", f"{P}<int:page_id>/revisions/<int:revision_id>/revert/",
              f"{P}add/<slug:content_type_app_name>/<slug:content_type_model_name>/<int:parent_page_id>/"]),
    W("unpublish", EDITORS_A, post="DEN  DEN  RE   DEN  DEN  RE   404  404  404", routes=[f"{P}<int:page_id>/unpublish/"]),
    W("copy (the copy form is refused for its empty title)", EDITORS_A,
      post=EDITORS_A, routes=[f"{P}<int:page_id>/copy/"],
      data={"new_title": "", "new_slug": "copy-of-the-fund", "new_parent_page": "{section.pk}"}),
    W("move, confirmed: the confirmation names the pages, the move itself checks permission", STAFF_A,
      post="DEN  DEN  RE   DEN  DEN  RE   404  404  404",
      routes=[f"{P}<int:page_to_move_id>/move/<int:destination_id>/confirm/"],
      args={"destination_id": "section.pk"}, note="moved under its own parent: nothing changes"),
    W("who may see a page (privacy): A's editors; B's staff 404", EDITORS_A,
      post=EDITORS_A, routes=[f"{P}<int:page_id>/privacy/"],
      data={"restriction_type": "password", "password": "let-me-in-2026"}),
    W("lock and unlock (POST only): A's editors hold lock and unlock on A's section", ALL_405_A,
      post="DEN  DEN  RE   DEN  DEN  RE   404  404  404", routes=[f"{P}<int:page_id>/lock/", f"{P}<int:page_id>/unlock/"]),
    W("add a subpage: the type chooser sends editors on", "DEN  DEN  RE   DEN  DEN  RE   404  404  404",
      routes=[f"{P}<int:parent_page_id>/add_subpage/"]),
    W("deleting pages: superusers only", SUPERUSERS_A, routes=[f"{P}<int:page_id>/delete/"]),
    W("old revisions: on to the history", "RE   RE   RE   RE   RE   RE   404  404  404",
      routes=[f"{P}<int:page_id>/revisions/"]),
    W("nothing there for these arguments", ALL_404, routes=[
        f"{P}workflow/action/<int:page_id>/<slug:action_name>/<int:task_state_id>/",
        f"{P}workflow/collect_action_data/<int:page_id>/<slug:action_name>/<int:task_state_id>/",
        "admin/forms/submissions/<int:page_id>/", "admin/forms/submissions/<int:page_id>/results/",
        f"{P}<int:page_id>/convert_alias/", "admin/block-preview/", "admin/tag-autocomplete/<slug:app_name>/<slug:model_name>/",
        "admin/workflows/tasks/add/<str:app_label>/<str:model_name>/", "admin/collections/<int:pk>/delete/",
        "admin/api/main/^pages/find/", "admin/api/main/^documents/find/", "admin/api/main/^images/find/"]),
    W("workflow history detail", "DEN  DEN  404  DEN  DEN  404  404  404  404",
      routes=[f"{P}<int:page_id>/workflow_history/detail/<int:workflow_state_id>/"]),
    W("page not in moderation: back to the dashboard; B's staff: 404",
      "RE   RE   RE   RE   RE   RE   404  404  404", routes=[f"{P}workflow/preview/<int:page_id>/<int:task_id>/"]),
    W("bulk actions on pages: each page's permission is checked; A's page is 404 to B's staff", STAFF_A,
      post="RE   RE   RE   RE   RE   RE   404  404  404", routes=["admin/bulk/<str:app_label>/<str:model_name>/<str:action>/"],
      args={"app_label": "=wagtailcore", "model_name": "=page", "action": "=delete"}, query="?id={fund_page.pk}"),
    W("the site history (Wagtail's audit log, every foundation): superusers only", SUPERUSERS,
      prefixes=["admin/reports/site-history/"]),
    W("site settings", SUPERUSERS, prefixes=["admin/settings/"],
      args={"app_name": "=cms", "model_name": "=brandingsettings", "pk": "site_row.pk"}),
    W("images and documents: editors work in their own foundation's collection", EDITORS, routes=[
        "admin/documents/", "admin/documents/results/", "admin/documents/add/", "admin/documents/multiple/add/",
        "admin/documents/chooser/create/", "admin/images/", "admin/images/results/", "admin/images/add/",
        "admin/images/multiple/add/", "admin/images/chooser/create/"]),
    W("A's image or document (in A's collection): A's editors; everyone else is refused", EDITORS_OWN, routes=[
        "admin/documents/edit/<int:document_id>/", "admin/documents/delete/<int:document_id>/",
        "admin/documents/usage/<int:document_id>/", "admin/images/<int:image_id>/",
        "admin/images/<int:image_id>/delete/", "admin/images/<int:image_id>/preview/<str:filter_spec>/",
        "admin/images/usage/<int:image_id>/"],
      note="the delete screens only ask; deleting needs a permission nobody but superusers holds"),
    W("A's image or document chosen: A's editors and auditor", CHOOSERS_OWN, routes=[
        "admin/documents/chooser/chosen/<str:pk>/", "admin/images/chooser/chosen/<str:pk>/",
        "admin/images/chooser/<int:image_id>/select_format/"]),
    W("an image's URL generator: no image server configured (404) for those who may edit it",
      "DEN  DEN  404  DEN  DEN  404  404  DEN  DEN", routes=[
        "admin/images/<int:image_id>/generate_url/", "admin/images/<int:image_id>/generate_url/output/"]),
    W("Wagtail areas for superusers only", SUPERUSERS, prefixes=[
        "admin/collections/", "admin/workflows/", "admin/redirects/", "admin/translation/",
        "admin/snippets/", "admin/documents/", "admin/images/", "admin/locales/", "admin/sites/", "admin/users/",
        "admin/groups/"]),
    W("form submissions' delete, submitting a page for translation: superusers only; A's page is 404 to B's staff",
      SUPERUSERS_A, routes=["admin/forms/submissions/<int:page_id>/delete/", "admin/translation/submit/page/<int:page_id>/"]),
    W("admin API listings (filtered by permission)", ALL_STAFF, prefixes=["admin/api/"]),
    W("admin API images and documents: platform administrators only (they ignore collections)", ALL_404,
      prefixes=["admin/api/main/^images/", "admin/api/main/^documents/"]),
    W("admin API: one page", "404  404  OK   404  404  OK   404  404  404", routes=["admin/api/main/^pages/<int:pk>/"]),
]
# fmt: on
