"""Photos on the wire."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.models import PhotoKind
from app.schemas.base import WriteSchema


class PhotoUrls(BaseModel):
    thumbnail: str
    display: str
    full: str | None = Field(description="The whole photo: for the agencies involved and admins.")


class PhotoRead(BaseModel):
    id: int
    kind: PhotoKind
    created_at: dt.datetime
    captured_at: dt.datetime | None = Field(
        description="When the camera says it was taken (UTC); all other metadata is removed."
    )
    width: int
    height: int
    content_type: str
    hidden: bool = Field(description="Hidden from the public by moderation (staff see it).")
    urls: PhotoUrls


class PhotoModeration(WriteSchema):
    hidden: bool
    note: str | None = Field(default=None, min_length=1, max_length=2000)
