"""Where photo files live: one interface, a local directory or an S3-compatible bucket."""

from __future__ import annotations

import hashlib
from typing import Protocol

from app.config import Settings

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


class StorageError(Exception):
    """The store could not do what was asked (disk, permissions, network, missing bucket)."""


class PhotoStore(Protocol):
    """Content-addressed files: a key names the SHA-256 of its bytes, so a key's bytes never
    change and writing the same bytes twice stores them once."""

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        """Store the bytes under the key; True if this call created the object."""
        ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def presigned_url(self, key: str) -> str | None:
        """A URL the client may fetch the object from directly, or None to serve it ourselves."""
        ...


def content_key(data: bytes, content_type: str) -> str:
    """`ab/cd/abcd….jpg`: spread over directories, named by the bytes."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest[2:4]}/{digest}.{EXTENSIONS[content_type]}"


def store_for(settings: Settings) -> PhotoStore:
    if settings.storage_backend == "s3":
        from app.storage.s3 import S3PhotoStore

        return S3PhotoStore.from_settings(settings)
    from app.storage.local import LocalPhotoStore

    return LocalPhotoStore(settings.photo_dir)
