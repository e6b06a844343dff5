"""Every model, imported so Alembic autogenerate and the mappers see them all."""

from app.models.agency import Agency, agency_category
from app.models.api_key import ApiKey
from app.models.auth_session import AuthSession, SessionEnd
from app.models.base import Base
from app.models.category import AttributeDatatype, Category, CategoryAttribute
from app.models.city import City
from app.models.comment import Comment, CommentFlag, ResponseTemplate
from app.models.contractor import ContractorLink
from app.models.district import District
from app.models.emergency import EmergencyStop
from app.models.feedback import Answer, IssueFeedback
from app.models.follow import AreaWatch, Follow
from app.models.idempotency import IdempotencyRecord
from app.models.issue import (
    Flag,
    Issue,
    IssueStatus,
    Priority,
    Resolution,
    issue_candidate,
    issue_flag,
)
from app.models.issue_event import EventAction, IssueEvent
from app.models.issue_import import ImportCursor, IssueImport
from app.models.line import LineContact
from app.models.map_cell import IssueCellCount
from app.models.moderation import (
    FlagReason,
    IssueModerationFlag,
    RedactedField,
    Redaction,
    Review,
)
from app.models.notification import (
    Channel,
    Notification,
    NotificationPreference,
    NotificationStatus,
)
from app.models.open311 import Open311Submission
from app.models.photo import Photo, PhotoFile, PhotoKind, PhotoVariant
from app.models.priority import PriorityRules
from app.models.privacy import PrivacyAction, PrivacyAudit
from app.models.registration import Registration
from app.models.rollup import IssueDayRollup, IssueDurationRollup
from app.models.support import Support
from app.models.types import LonLat
from app.models.user import ContactNeed, Language, Role, User
from app.models.webhook import PushSubscription, Webhook

__all__ = [
    "Agency",
    "Answer",
    "ApiKey",
    "AreaWatch",
    "AttributeDatatype",
    "AuthSession",
    "Base",
    "Category",
    "CategoryAttribute",
    "Channel",
    "City",
    "Comment",
    "CommentFlag",
    "ContactNeed",
    "ContractorLink",
    "District",
    "EmergencyStop",
    "EventAction",
    "Flag",
    "FlagReason",
    "Follow",
    "IdempotencyRecord",
    "ImportCursor",
    "Issue",
    "IssueCellCount",
    "IssueDayRollup",
    "IssueDurationRollup",
    "IssueEvent",
    "IssueFeedback",
    "IssueImport",
    "IssueModerationFlag",
    "IssueStatus",
    "Language",
    "LineContact",
    "LonLat",
    "Notification",
    "NotificationPreference",
    "NotificationStatus",
    "Open311Submission",
    "Photo",
    "PhotoFile",
    "PhotoKind",
    "PhotoVariant",
    "Priority",
    "PriorityRules",
    "PrivacyAction",
    "PrivacyAudit",
    "PushSubscription",
    "RedactedField",
    "Redaction",
    "Registration",
    "Resolution",
    "ResponseTemplate",
    "Review",
    "Role",
    "SessionEnd",
    "Support",
    "User",
    "Webhook",
    "agency_category",
    "issue_candidate",
    "issue_flag",
]
