"""Notifications on the wire: following, watches, subscriptions, logs and the reporter's answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.models import Answer, Channel, IssueStatus, Language, Notification, NotificationStatus
from app.schemas.base import ReadSchema, WriteSchema


class FollowState(BaseModel):
    issue: str = Field(description="The issue's public id.")
    following: bool


class WebhookCreate(WriteSchema):
    url: str = Field(
        min_length=8,
        max_length=2048,
        pattern=r"^https?://",
        description="Where to POST. Private, loopback and link-local addresses are refused.",
        examples=["https://city-crm.example/civicloop"],
    )
    agency_id: int | None = Field(
        default=None, description="For an agency's system (its managers or admins); else yours."
    )
    description: str = Field(default="", max_length=200)


class WebhookRead(ReadSchema):
    id: int
    url: str
    agency_id: int | None
    description: str
    is_active: bool
    created_at: dt.datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="Verifies `webhook-signature` (HMAC-SHA256, Standard Webhooks); shown once."
    )


class PushKeys(WriteSchema):
    p256dh: str = Field(min_length=1, max_length=128)
    auth: str = Field(min_length=1, max_length=64)


class PushSubscriptionCreate(WriteSchema):
    """A browser's `PushSubscription.toJSON()`."""

    endpoint: str = Field(min_length=8, max_length=2048, pattern=r"^https?://")
    keys: PushKeys
    expirationTime: int | None = Field(default=None, description="Ignored.")


class PushSubscriptionRead(ReadSchema):
    endpoint: str
    created_at: dt.datetime


class VapidKey(BaseModel):
    public_key: str = Field(description="applicationServerKey for pushManager.subscribe().")


class Preferences(BaseModel):
    email: bool
    webpush: bool
    webhook: bool
    agency_alerts: bool = Field(description="Staff: new and transferred issues in the queue.")
    language: Language


class PreferencesUpdate(WriteSchema):
    email: bool | None = None
    webpush: bool | None = None
    webhook: bool | None = None
    agency_alerts: bool | None = None
    language: Language | None = None


class WatchCreate(WriteSchema):
    """A GeoJSON Polygon/MultiPolygon `area`, or `latitude` + `longitude` + `radius_m`."""

    area: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon."
    )
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    radius_m: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    categories: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default=[], max_length=100, description="Category codes; empty means all."
    )

    @model_validator(mode="after")
    def _polygon_or_circle(self) -> WatchCreate:
        circle = (self.latitude, self.longitude, self.radius_m)
        if self.area is not None and any(v is not None for v in circle):
            raise ValueError("give either an area or latitude, longitude and radius_m, not both")
        if self.area is None and any(v is None for v in circle):
            raise ValueError("give an area, or all of latitude, longitude and radius_m")
        return self


class WatchRead(BaseModel):
    id: int
    area: dict[str, Any] | None
    latitude: float | None
    longitude: float | None
    radius_m: float | None
    categories: list[str]
    created_at: dt.datetime


class Outcome(BaseModel):
    detail: str


# What a mailed link is for: finishing a sign-up, setting a new password, unsubscribing, or the
# reporter's answer to a resolution.
LinkActionName = Literal[
    "confirm_sign_up",
    "reset_password",
    "unsubscribe",
    "fixed",
    "not_fixed",
    "rating",
    "verify_email",
    "follow_by_email",
]


class Confirmation(BaseModel):
    """What a link from a message would do, and the request that does it. Opening the link
    changes nothing (mail scanners open every link they see); the POST described here acts."""

    action: LinkActionName
    description: str = Field(description="What the POST will do, in the reader's language.")
    method: Literal["POST"] = "POST"
    href: str = Field(description="Where to send it (absolute, from the public base URL).")
    content_type: Literal["application/json", "application/x-www-form-urlencoded"]
    body: dict[str, str | int] = Field(description="The fields to send, token included.")


class FeedbackRequest(WriteSchema):
    token: str = Field(min_length=10, max_length=500, description="From the message's links.")
    answer: Answer | None = Field(default=None, description="fixed closes, not_fixed reopens.")
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, min_length=1, max_length=2000)


class FeedbackRead(BaseModel):
    issue: str
    status: IssueStatus
    answer: Answer | None
    rating: int | None
    comment: str | None


class NotificationEntry(BaseModel):
    id: int
    message_id: str
    channel: Channel
    destination: str
    reason: str
    action: str = Field(description="The step that caused it (reported, claimed, ...).")
    status: NotificationStatus
    created_at: dt.datetime
    sent_at: dt.datetime | None = Field(description="When we told you (null until delivered).")
    attempts: int | None = Field(default=None, description="Staff and admins only.")
    last_error: str | None = Field(default=None, description="Staff and admins only.")

    @classmethod
    def of(cls, n: Notification, *, full: bool) -> NotificationEntry:
        return cls(
            id=n.id,
            message_id=n.message_id,
            channel=n.channel,
            destination=n.destination,
            reason=n.reason,
            action=str(n.payload.get("event", {}).get("action", "")),
            status=n.status,
            created_at=n.created_at,
            sent_at=n.sent_at,
            attempts=n.attempts if full else None,
            last_error=n.last_error if full else None,
        )


class NotificationLog(BaseModel):
    issue: str
    complete: bool = Field(description="True for staff and admins; others see their own only.")
    entries: list[NotificationEntry]


class DeadLetter(NotificationEntry):
    issue: str | None


class TimingRead(BaseModel):
    median_seconds: float | None
    p90_seconds: float | None
    within_target: float | None = Field(description="Share done by the issue's due date.")


class MetricsRead(BaseModel):
    issues: int = Field(description="Issues reported in the period (and filters).")
    acknowledged: int
    resolved: int = Field(description="Resolved now or closed after a resolution.")
    closed: int
    loop_closure_rate: float | None = Field(
        description="Closed issues whose reporter received the closing message / closed issues."
    )
    acknowledge: TimingRead
    resolve: TimingRead
    reopen_rate: float | None = Field(description="Reopened at least once / ever resolved.")
    confirmation_rate: float | None = Field(
        description="Reporter answered 'fixed' / ever resolved."
    )
    average_satisfaction: float | None
    ratings: int
    supports: int = Field(description='"Me too" supports citizens gave these issues.')
    merged_duplicates: int = Field(description="Issues merged into another as duplicates.")
    repeat_rate: float | None = Field(
        description="Contacts about something already reported (supports + merged duplicates) "
        "/ all contacts (issues + supports)."
    )
