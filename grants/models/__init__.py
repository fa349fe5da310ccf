from .accounts import User, UserManager
from .activity import ActivityEntry, AppendOnlyError
from .applications import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    IntakeChannel,
)
from .awards import (
    UNPAID_INSTALLMENT_STATES,
    Award,
    AwardAmendment,
    AwardStatus,
    Installment,
    InstallmentStatus,
    ReportDueDate,
    ReportKind,
)
from .foundations import ROLE_GROUP_NAMES, Foundation, Role, StaffMembership
from .funds import CallStatus, Fund, FundingCall, FundStatus, ProgramType
from .ledger import (
    CREDIT,
    DEBIT,
    NORMAL_BALANCE,
    AccountKind,
    EntryCause,
    JournalEntry,
    JournalLine,
    LedgerAccount,
)
from .organizations import LegalStatus, Organization, OrganizationInvite, OrganizationMembership
from .reviews import (
    ApplicationVersion,
    DecisionMessage,
    InformationRequest,
    Recommendation,
    Review,
    ReviewAssignment,
)
from .stripe_sim import SimulatedIdempotencyKey, SimulatedStripeObject

__all__ = [
    "CREDIT",
    "DEBIT",
    "NORMAL_BALANCE",
    "ROLE_GROUP_NAMES",
    "UNPAID_INSTALLMENT_STATES",
    "AccountKind",
    "ActivityEntry",
    "AppendOnlyError",
    "Application",
    "ApplicationAttachment",
    "ApplicationStatus",
    "ApplicationVersion",
    "Award",
    "AwardAmendment",
    "AwardStatus",
    "CallStatus",
    "DecisionMessage",
    "EntryCause",
    "Foundation",
    "Fund",
    "FundStatus",
    "FundingCall",
    "InformationRequest",
    "Installment",
    "InstallmentStatus",
    "IntakeChannel",
    "JournalEntry",
    "JournalLine",
    "LedgerAccount",
    "LegalStatus",
    "Organization",
    "OrganizationInvite",
    "OrganizationMembership",
    "ProgramType",
    "Recommendation",
    "ReportDueDate",
    "ReportKind",
    "Review",
    "ReviewAssignment",
    "Role",
    "SimulatedIdempotencyKey",
    "SimulatedStripeObject",
    "StaffMembership",
    "User",
    "UserManager",
]
