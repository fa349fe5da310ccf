from .accounts import User, UserManager
from .activity import ActivityEntry, AppendOnlyError
from .applications import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    IntakeChannel,
)
from .foundations import ROLE_GROUP_NAMES, Foundation, Role, StaffMembership
from .funds import CallStatus, Fund, FundingCall, FundStatus, ProgramType
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
    "ROLE_GROUP_NAMES",
    "ActivityEntry",
    "AppendOnlyError",
    "Application",
    "ApplicationAttachment",
    "ApplicationStatus",
    "ApplicationVersion",
    "CallStatus",
    "DecisionMessage",
    "Foundation",
    "Fund",
    "FundStatus",
    "FundingCall",
    "InformationRequest",
    "IntakeChannel",
    "LegalStatus",
    "Organization",
    "OrganizationInvite",
    "OrganizationMembership",
    "ProgramType",
    "Recommendation",
    "Review",
    "ReviewAssignment",
    "Role",
    "SimulatedIdempotencyKey",
    "SimulatedStripeObject",
    "StaffMembership",
    "User",
    "UserManager",
]
