from .accounts import User, UserManager
from .foundations import ROLE_GROUP_NAMES, Foundation, Role, StaffMembership
from .funds import CallStatus, Fund, FundingCall, FundStatus, ProgramType

__all__ = [
    "ROLE_GROUP_NAMES",
    "CallStatus",
    "Foundation",
    "Fund",
    "FundStatus",
    "FundingCall",
    "ProgramType",
    "Role",
    "StaffMembership",
    "User",
    "UserManager",
]
