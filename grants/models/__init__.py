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

__all__ = [
    "ROLE_GROUP_NAMES",
    "ActivityEntry",
    "AppendOnlyError",
    "Application",
    "ApplicationAttachment",
    "ApplicationStatus",
    "CallStatus",
    "Foundation",
    "Fund",
    "FundStatus",
    "FundingCall",
    "IntakeChannel",
    "LegalStatus",
    "Organization",
    "OrganizationInvite",
    "OrganizationMembership",
    "ProgramType",
    "Role",
    "StaffMembership",
    "User",
    "UserManager",
]
