"""Words for the codes a person would otherwise see: what Stripe still needs before it can pay a
group, and what happened to an application. Never show a raw code to a person: these turn every
code into a sentence in the reader's language (and a general phrase for a code not known yet).
"""

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# --- What Stripe still needs (``PayeeAccount.requirements_due``) ------------------------------
# Stripe names each missing detail by a dotted path (its "requirements"); the person answering
# is the group's representative. Exact paths first, then the last part of a path, then its start.

STRIPE_REQUIREMENTS = {
    "external_account": _("A bank account to receive the payments"),
    "tos_acceptance.date": _("Accepting Stripe's terms of service"),
    "tos_acceptance.ip": _("Accepting Stripe's terms of service"),
    "business_type": _("The kind of organization (company, nonprofit or individual)"),
    "business_profile.url": _("A website or social media page about the group's work"),
    "business_profile.product_description": _("A short description of the group's work"),
    "business_profile.mcc": _("The group's line of work (Stripe's category)"),
    "business_profile.support_phone": _("A phone number for the group"),
    "company.name": _("The organization's legal name"),
    "company.tax_id": _("The organization's tax id (EIN)"),
    "company.phone": _("The organization's phone number"),
    "company.owners_provided": _("Confirming the organization's owners"),
    "company.directors_provided": _("Confirming the organization's directors"),
    "company.executives_provided": _("Confirming the organization's executives"),
    "company.verification.document": _("A document proving the organization is registered"),
    "settings.payments.statement_descriptor": _("The name shown on bank statements"),
}

# By the end of the path, whoever it is about (the representative, an owner, a director…).
STRIPE_REQUIREMENT_ENDINGS = {
    "verification.document": _("A photo of an identity document (passport, ID card or driver's license)"),
    "verification.additional_document": _("A second document proving identity or address"),
    "id_number": _("An identity number (such as a tax id number)"),
    "ssn_last_4": _("The last four digits of a Social Security number"),
    "first_name": _("The representative's first name"),
    "last_name": _("The representative's last name"),
    "email": _("The representative's email address"),
    "phone": _("The representative's phone number"),
    "relationship.title": _("The representative's role in the group"),
    "relationship.owner": _("Whether the representative owns part of the organization"),
    "relationship.director": _("Whether the representative is a director"),
    "relationship.executive": _("Whether the representative is an executive"),
}

# By the start of the path, for a detail not listed above.
STRIPE_REQUIREMENT_PREFIXES = (
    (re.compile(r"^(individual|representative|person_\w+)\.dob\."), _("The representative's date of birth")),
    (re.compile(r"^(individual|representative|person_\w+)\.address\."), _("The representative's address")),
    (re.compile(r"^company\.address\."), _("The organization's address")),
    (re.compile(r"^(owners|person_\w+)\."), _("Details of the organization's owners")),
    (re.compile(r"^directors\."), _("Details of the organization's directors")),
    (re.compile(r"^executives\."), _("Details of the organization's executives")),
    (re.compile(r"^company\."), _("Details of the organization")),
    (re.compile(r"^(individual|representative)\."), _("Details of the representative")),
    (re.compile(r"^business_profile\."), _("Details of the group's work")),
)

OTHER_REQUIREMENT = _("Another detail Stripe asks for (continue with Stripe to see it)")


def stripe_requirement(code: str) -> str:
    """One of Stripe's requirement paths in words, in the active language."""
    code = str(code or "").strip()
    if code in STRIPE_REQUIREMENTS:
        return str(STRIPE_REQUIREMENTS[code])
    for ending, words in STRIPE_REQUIREMENT_ENDINGS.items():
        if code == ending or code.endswith("." + ending):
            return str(words)
    for pattern, words in STRIPE_REQUIREMENT_PREFIXES:
        if pattern.match(code):
            return str(words)
    return str(OTHER_REQUIREMENT)


def stripe_requirements(codes) -> list[str]:
    """Every requirement in words, each phrase once (a date of birth is three codes at Stripe)."""
    seen = []
    for code in codes or ():
        words = stripe_requirement(code)
        if words not in seen:
            seen.append(words)
    return seen


# --- What happened to an application (``ActivityEntry.action``) ------------------------------

APPLICATION_ACTIVITY = {
    "started": _("Draft started"),
    "started_by_staff": _("Draft started by staff (phone, paper or in person)"),
    "submitted": _("Submitted"),
    "submit": _("Submitted"),
    "start_screening": _("Screening started"),
    "send_to_review": _("Sent to review"),
    "request_more_info": _("More information requested"),
    "resubmit": _("Resubmitted"),
    "approve": _("Approved"),
    "decline": _("Declined"),
    "withdrawn": _("Withdrawn"),
    "withdraw": _("Withdrawn"),
    "reviewer_assigned": _("Reviewer assigned"),
    "conflict_declared": _("Conflict of interest declared"),
    "no_conflict_declared": _("No conflict of interest declared"),
    "review_submitted": _("Review submitted"),
    "comment": _("Comment"),
    "email_sent": _("Email sent"),
}

OTHER_ACTIVITY = pgettext_lazy("activity", "Other change")


def application_activity(action: str) -> str:
    """What an activity entry of an application says happened, in words."""
    return str(APPLICATION_ACTIVITY.get(action, OTHER_ACTIVITY))


# What the activity log says for every other entry, by what it is about and what happened
# (tests/grants/test_plain_words.py checks every action the services write has words here or in
# the areas' own tables).
ACTIVITY_WORDS = {
    ("disbursement", "release"): pgettext_lazy("activity", "Payment released"),
    ("disbursement", "submit"): pgettext_lazy("activity", "Payment sent to Stripe"),
    ("disbursement", "outcome_unknown"): pgettext_lazy("activity", "Stripe did not answer; outcome unknown"),
    ("disbursement", "fail"): pgettext_lazy("activity", "Payment refused by Stripe"),
    ("disbursement", "retry"): pgettext_lazy("activity", "Payment tried again"),
    ("disbursement", "confirm"): pgettext_lazy("activity", "Payment confirmed by Stripe"),
    ("disbursement", "reverse"): pgettext_lazy("activity", "Payment reversed"),
    ("donation", "start"): pgettext_lazy("activity", "Gift started"),
    ("donation", "payment_processing"): pgettext_lazy("activity", "Bank payment on its way"),
    ("donation", "complete"): pgettext_lazy("activity", "Gift received"),
    ("donation", "expire"): pgettext_lazy("activity", "Gift not completed in time"),
    ("donation", "fail"): pgettext_lazy("activity", "Gift payment failed"),
    ("donation", "refund_part"): pgettext_lazy("activity", "Part of the gift refunded"),
    ("donation", "refund"): pgettext_lazy("activity", "Gift refunded"),
    ("donation", "refund_failed"): pgettext_lazy("activity", "Refund failed"),
    ("donation", "refund_failed_part"): pgettext_lazy("activity", "Refund of part of the gift failed"),
    ("donation", "dispute"): pgettext_lazy("activity", "Gift disputed by the donor's bank"),
    ("donation", "win_dispute"): pgettext_lazy("activity", "Dispute won"),
    ("donation", "win_dispute_after_refund"): pgettext_lazy("activity", "Dispute won after a refund"),
    ("donation", "lose_dispute"): pgettext_lazy("activity", "Dispute lost"),
    ("recurring_gift", "activate"): pgettext_lazy("activity", "Monthly gift started"),
    ("recurring_gift", "payment_attempt_failed"): pgettext_lazy("activity", "Monthly payment failed"),
    ("recurring_gift", "cancel"): pgettext_lazy("activity", "Monthly gift stopped"),
    ("export", "export_requested"): pgettext_lazy("activity", "Export requested"),
    ("export", "export_downloaded"): pgettext_lazy("activity", "Export downloaded"),
    ("export", "export_expired"): pgettext_lazy("activity", "Export link expired"),
    ("export", "export_failed"): pgettext_lazy("activity", "Export failed"),
    ("foundation", "created"): pgettext_lazy("activity", "Foundation added"),
    ("payee_account", "create"): pgettext_lazy("activity", "Payout set-up started"),
    ("payee_account", "status"): pgettext_lazy("activity", "Payout account status changed"),
    ("grant_return", "announced"): pgettext_lazy("activity", "Return of unspent money announced"),
    ("grant_return", "received"): pgettext_lazy("activity", "Returned money received"),
    ("stipend_program", "create"): pgettext_lazy("activity", "Stipend program created"),
    ("stipend_shifts", "import"): pgettext_lazy("activity", "Shifts uploaded"),
    ("volunteer", "add"): pgettext_lazy("activity", "Volunteer added"),
    ("volunteer", "activate"): pgettext_lazy("activity", "Volunteer's payouts set up"),
    ("stipend_batch", "compute"): pgettext_lazy("activity", "Stipends computed"),
    ("stipend_batch", "approve"): pgettext_lazy("activity", "Stipends approved"),
    ("stipend_batch", "cancel"): pgettext_lazy("activity", "Stipend computation cancelled"),
    ("stipend_batch", "pay"): pgettext_lazy("activity", "Stipends paid"),
    ("stipend_batch", "payment_reversed"): pgettext_lazy("activity", "A stipend payment was reversed"),
    ("installment", "payment_reversed"): pgettext_lazy("activity", "Payment reversed by Stripe"),
    ("installment", "pay_outside_after_reversal"): pgettext_lazy(
        "activity", "Paid another way after a reversal"
    ),
    ("spending_report", "save"): pgettext_lazy("activity", "Report saved"),
    ("spending_report", "submit"): pgettext_lazy("activity", "Report submitted"),
    ("spending_report", "resubmit"): pgettext_lazy("activity", "Report submitted again"),
    ("spending_report", "request_changes"): pgettext_lazy("activity", "Changes to the report requested"),
    ("spending_report", "accept"): pgettext_lazy("activity", "Report accepted"),
    ("stripe_payout", "payout_failed"): pgettext_lazy("activity", "Stripe payout to the bank failed"),
    ("webhook_event", "reapply"): pgettext_lazy("activity", "Stripe event applied again"),
    ("donor", "yearly_summary_sent"): pgettext_lazy("activity", "Yearly summary sent"),
    ("user", "officer_digest_sent"): pgettext_lazy("activity", "Daily digest sent"),
    # Bonds
    ("bond", "request"): pgettext_lazy("activity", "Bond requested"),
    ("bond", "approve"): pgettext_lazy("activity", "Bond approved"),
    ("bond", "decline"): pgettext_lazy("activity", "Bond request declined"),
    ("bond", "withdraw"): pgettext_lazy("activity", "Bond request withdrawn"),
    ("bond", "send"): pgettext_lazy("activity", "Bond money sent to the partner"),
    ("bond", "transfer_failed"): pgettext_lazy("activity", "Transfer for the bond refused by Stripe"),
    ("bond", "post"): pgettext_lazy("activity", "Bond posted"),
    ("bond", "cancel"): pgettext_lazy("activity", "Bond cancelled, refund expected"),
    ("bond", "return"): pgettext_lazy("activity", "Bond money returned"),
    ("bond", "partial_refund"): pgettext_lazy("activity", "Part of the bond refunded"),
    ("bond", "breach"): pgettext_lazy("activity", "Bond breached, loss written off"),
    ("bond", "set_reference"): pgettext_lazy("activity", "Bond reference entered"),
    ("bond", "purge_reference"): pgettext_lazy("activity", "Bond reference erased"),
    ("bond_partner", "add_partner"): pgettext_lazy("activity", "Bond partner added"),
    ("bond_partner", "remove_partner"): pgettext_lazy("activity", "Bond partner removed"),
    ("vendor", "create"): pgettext_lazy("activity", "Vendor added"),
    ("vendor", "send_onboarding_link"): pgettext_lazy("activity", "Payout setup link emailed to the vendor"),
    ("vendor_payment", "request"): pgettext_lazy("activity", "Payment to a vendor asked for"),
    ("vendor_payment", "approve"): pgettext_lazy("activity", "Payment to a vendor approved"),
    ("vendor_payment", "decline"): pgettext_lazy("activity", "Payment to a vendor declined"),
    ("vendor_payment", "send"): pgettext_lazy("activity", "Payment to a vendor sent to Stripe"),
    ("vendor_payment", "pay"): pgettext_lazy("activity", "Payment to a vendor made"),
    ("vendor_payment", "fail"): pgettext_lazy("activity", "Payment to a vendor failed"),
    ("vendor_payment", "pay_by_check"): pgettext_lazy("activity", "Payment to a vendor made by check"),
    ("vendor_payment", "reverse"): pgettext_lazy("activity", "Payment to a vendor reversed by Stripe"),
    ("vendor_payment", "cancel"): pgettext_lazy("activity", "Payment to a vendor cancelled"),
}


def activity_words(subject_type: str, action: str) -> str:
    """The activity log's words for an entry no area's own table names ("Other change" for an
    action the portal does not know, never its code)."""
    return str(ACTIVITY_WORDS.get((subject_type, action), OTHER_ACTIVITY))
