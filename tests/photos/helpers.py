"""Reading what the photo store holds, and uploading over HTTP."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from botocore.exceptions import ClientError
from PIL import Image
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.models import IssueEvent, Photo, PhotoFile, User
from tests.factories import bearer
from tests.lifecycle.helpers import stored_count

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class Stored(Protocol):
    def list_keys(self) -> list[str]: ...

    def read(self, key: str) -> bytes: ...


class Disk:
    def __init__(self, root: Path) -> None:
        self.root = root

    def list_keys(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


class Bucket:
    def __init__(self, client: S3Client, name: str) -> None:
        self.client = client
        self.name = name

    def list_keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.name)
        except ClientError:
            return False
        return True


def multipart(*photos: tuple[str, bytes], **fields: str) -> dict[str, Any]:
    """httpx arguments for a multipart body: `photo` parts in order, then form fields."""
    files = [("photo", (name, data, "image/jpeg")) for name, data in photos]
    return {"files": files, "data": fields}


async def upload(
    client: httpx.AsyncClient,
    settings: Settings,
    user: User,
    issue_id: str,
    *photos: tuple[str, bytes],
    kind: str = "report",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/issues/{issue_id}/photos",
        params={"kind": kind},
        headers={**bearer(settings, user), **(headers or {})},
        **multipart(*photos),
    )


def nothing_stored(database: Database, stored: Stored) -> None:
    """No photo rows, no photo events, no files: what every refused upload must leave."""
    assert stored_count(database, Photo) == 0
    assert stored_count(database, PhotoFile) == 0
    with database.session(write=False) as session:
        actions = session.scalars(select(IssueEvent.action)).all()
    assert not [a for a in actions if a.startswith("photo")]
    assert stored.list_keys() == []


def image(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def metadata_of(data: bytes) -> dict[str, object]:
    """Every kind of metadata Pillow can find in an encoded image (empty when clean)."""
    picture = image(data)
    found: dict[str, object] = {}
    if len(picture.getexif()):
        found["exif"] = dict(picture.getexif())
    for key in ("exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp", "photoshop"):
        if picture.info.get(key):
            found[key] = picture.info[key]
    # JPEG segments beyond the JFIF header (APP1 Exif/XMP, APP13, comments, ...).
    applist: list[tuple[str, bytes]] = getattr(picture, "applist", [])
    segments = [marker for marker, _ in applist if marker != "APP0"]
    if segments:
        found["app_segments"] = segments
    for marker in (b"Exif\x00\x00", b"xmpmeta", b"Civicphone", b"somchai"):
        if marker in data:
            found[f"bytes:{marker!r}"] = True
    return found
