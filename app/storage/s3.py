"""Photos in any S3-compatible bucket (AWS S3, MinIO, Ceph, R2, ...) through boto3."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.config import Settings
from app.storage import StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Keys name their content, so the bytes under a key never change: cache them for good.
IMMUTABLE = "public, max-age=31536000, immutable"


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


class S3PhotoStore:
    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        prefix: str = "",
        presign_seconds: int | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.presign_seconds = presign_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> S3PhotoStore:
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key.get_secret_value() or None,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                # Path-style works with every S3-compatible server, virtual hosts need DNS.
                s3={"addressing_style": "path"},
            ),
        )
        return cls(
            client,
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            presign_seconds=settings.s3_presigned_seconds if settings.s3_presigned_urls else None,
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        if self.exists(key):
            return False  # no need to send the bytes again
        try:
            # Conditional: of two requests storing the same bytes at once, one creates the object
            # and the other gets 412, so only the creator deletes it if it must undo.
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ContentType=content_type,
                CacheControl=IMMUTABLE,
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
                return False
            raise StorageError(f"cannot store {key} in bucket {self.bucket}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot store {key} in bucket {self.bucket}: {exc}") from exc
        return True

    def read(self, key: str) -> bytes:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            return body.read()
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot read {key} from bucket {self.bucket}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot delete {key} from bucket {self.bucket}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise StorageError(f"cannot reach bucket {self.bucket}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot reach bucket {self.bucket}: {exc}") from exc
        return True

    def presigned_url(self, key: str) -> str | None:
        if self.presign_seconds is None:
            return None
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=self.presign_seconds,
        )
        return url
