"""Accounts, tokens and API keys on the wire."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field

from app.models import ContactNeed, Language, Role
from app.schemas.base import ReadSchema, RecordId, WriteSchema, refuse_null

Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=128,
        # The length is the least of it: app.services.passwords refuses guessable ones.
        description="8 to 128 characters, and not easy to guess: a few uncommon words work "
        "well; common passwords, keyboard patterns and your own e-mail or name are refused.",
        json_schema_extra={"format": "password"},
    ),
]
DisplayName = Annotated[str, Field(min_length=1, max_length=120)]


class RegisterRequest(WriteSchema):
    email: EmailStr
    password: Password
    display_name: DisplayName
    language: Language = Language.th
    device_id: str | None = Field(
        default=None,
        min_length=16,
        max_length=128,
        description="The X-Device-Id this app reported with before: its reports join the account.",
    )


class Accepted(BaseModel):
    """The same answer whoever the address belongs to."""

    detail: str = Field(examples=["Check your e-mail: we sent a message to this address."])


class LinkToken(WriteSchema):
    token: str = Field(min_length=1, max_length=1024, description="From the mailed link.")


class FollowByEmailRequest(WriteSchema):
    email: EmailStr
    language: Language = Field(
        default=Language.th, description="The language of the confirmation and of the messages."
    )


class PasswordResetRequest(WriteSchema):
    email: EmailStr


class PasswordResetConfirm(WriteSchema):
    token: str = Field(min_length=1, max_length=1024, description="From the mailed link.")
    password: Password


class LoginRequest(WriteSchema):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=128)


class RefreshRequest(WriteSchema):
    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str


class UserRead(ReadSchema):
    id: int
    email: str | None
    display_name: str
    role: Role
    agency_id: int | None
    language: Language
    contact_needs: list[ContactNeed] = Field(description="How you need to be contacted.")
    is_active: bool = Field(description="False: switched off by an admin; nothing it sends works.")
    created_at: dt.datetime


class AccountErasure(WriteSchema):
    password: str | None = Field(
        default=None,
        max_length=1024,
        description="Your password, if your account has one (device-only accounts have none).",
    )


class ErasureRead(BaseModel):
    erased: bool = Field(description="Always true: the account exists for no one any more.")
    reports: int = Field(description="Your reports, kept as the civic record, by no one.")
    comments: int = Field(description="Your comments, kept the same way.")


class ContactPreferencesUpdate(WriteSchema):
    """Leave a field out to keep it; an empty list clears the needs."""

    language: Language | None = Field(
        default=None,
        description="The language answers (without an Accept-Language that names Thai or "
        "English) and your messages are written in.",
    )
    contact_needs: list[ContactNeed] | None = Field(
        default=None,
        max_length=len(ContactNeed),
        description="Staff handling your reports see these; easy_read also shortens your "
        "messages to what happened and the link.",
        examples=[["easy_read", "phone_call"]],
    )

    _required = refuse_null("language", "contact_needs")


class StaffCreate(WriteSchema):
    email: EmailStr
    password: Password
    display_name: DisplayName
    role: Literal[Role.agent, Role.manager, Role.admin]
    agency_id: RecordId | None = Field(
        default=None,
        description="Required for agents and managers (admins: any agency; managers: their own).",
    )


class AccountStatusUpdate(WriteSchema):
    is_active: bool = Field(
        description="false switches the account off: its sessions end, and its tokens, API keys "
        "and device are refused from the next request on; true switches it back on (API keys and "
        "the device work again; the person logs in again)."
    )


class ApiKeyCreate(WriteSchema):
    name: str = Field(min_length=1, max_length=120, examples=["district dashboard"])


class ApiKeyRead(ReadSchema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret: shown once, store it now. Send it as X-API-Key.")
