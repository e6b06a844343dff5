"""Notifications on the wire: following, watches, subscriptions, logs and the reporter's answer."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.models import Language
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
