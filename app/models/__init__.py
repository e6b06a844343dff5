"""Every model, imported so Alembic autogenerate and the mappers see them all."""

from app.models.agency import Agency, agency_category
from app.models.api_key import ApiKey
from app.models.base import Base
from app.models.category import AttributeDatatype, Category, CategoryAttribute
from app.models.district import District
from app.models.idempotency import IdempotencyRecord
from app.models.issue import Issue, IssueStatus, Priority, Resolution, issue_candidate
from app.models.issue_event import EventAction, IssueEvent
from app.models.open311 import Open311Submission
from app.models.photo import Photo, PhotoFile, PhotoKind, PhotoVariant
from app.models.types import LonLat
from app.models.user import Language, Role, User

__all__ = [
    "Agency",
    "ApiKey",
    "AttributeDatatype",
    "Base",
    "Category",
    "CategoryAttribute",
    "District",
    "EventAction",
    "IdempotencyRecord",
    "Issue",
    "IssueEvent",
    "IssueStatus",
    "Language",
    "LonLat",
    "Open311Submission",
    "Photo",
    "PhotoFile",
    "PhotoKind",
    "PhotoVariant",
    "Priority",
    "Resolution",
    "Role",
    "User",
    "agency_category",
    "issue_candidate",
]
