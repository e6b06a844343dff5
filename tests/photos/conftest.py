"""Photo fixtures: a real S3-compatible server on loopback, and the app on either store."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy.orm import Session

from app.config import Settings
from tests.conftest import TEST_SECRET
from tests.lifecycle.helpers import City, build_city
from tests.photos.helpers import Bucket, Disk, Stored

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3_KEY = "civicloop-test"
S3_SECRET = "civicloop-test-secret"  # moto accepts any credentials


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server, speaking HTTP on a loopback port, for the whole run."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: str) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    )


@pytest.fixture(scope="session")
def bucket_name() -> str:
    """One bucket name for the run, so that the apps configured with it can be reused."""
    return f"photos-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def bucket(s3_client: S3Client, bucket_name: str) -> Iterator[Bucket]:
    """An empty bucket (created again if a test removed it), emptied afterwards."""
    found = Bucket(s3_client, bucket_name)
    if not found.exists():
        s3_client.create_bucket(Bucket=bucket_name)
    yield found
    if found.exists():
        for key in found.list_keys():
            s3_client.delete_object(Bucket=bucket_name, Key=key)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def settings(
    database_url: str, data_dir: Path, backend: str, request: pytest.FixtureRequest
) -> Settings:
    """The app's settings with photos stored locally or in a fresh bucket on the S3 server."""
    s3: dict[str, object] = {}
    if backend == "s3":
        bucket: Bucket = request.getfixturevalue("bucket")
        s3 = {
            "storage_backend": "s3",
            "s3_bucket": bucket.name,
            "s3_endpoint_url": request.getfixturevalue("s3_endpoint"),
            "s3_access_key_id": S3_KEY,
            "s3_secret_access_key": S3_SECRET,
        }
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,
        _env_file=None,
        **s3,  # type: ignore[arg-type]
    )


@pytest.fixture
def stored(settings: Settings, request: pytest.FixtureRequest) -> Stored:
    """What the photo store holds now: files on disk, or objects in the bucket."""
    if settings.storage_backend == "s3":
        bucket: Bucket = request.getfixturevalue("bucket")
        return bucket
    return Disk(settings.photo_dir)


@pytest.fixture
def city(db: Session) -> City:
    return build_city(db)
