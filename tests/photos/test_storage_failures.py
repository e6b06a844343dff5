"""When storing fails half way, or the database fails after the files were stored, the upload
is refused and nothing is left behind: no rows, and no orphan file or object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import PhotoVariant
from app.services.photos import limits_of
from app.storage import content_key
from app.storage.images import clean_photo
from tests.lifecycle.helpers import City, problem_type, report
from tests.photos import images
from tests.photos.helpers import Bucket, Stored, nothing_stored, upload

SQLITE_TRIGGER = (
    "CREATE TRIGGER photo_file_fails BEFORE INSERT ON photo_file "
    "BEGIN SELECT RAISE(ABORT, 'photo_file is full'); END",
)
POSTGRES_TRIGGER = (
    "CREATE FUNCTION photo_file_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'photo_file is full' USING ERRCODE = 'check_violation'; END $$",
    "CREATE TRIGGER photo_file_fails BEFORE INSERT ON photo_file "
    "FOR EACH ROW EXECUTE FUNCTION photo_file_fails()",
)


@contextmanager
def photo_rows_refused(database: Database) -> Iterator[None]:
    """The database refuses photo_file rows: a real failure after the files are stored."""
    postgres = database.engine.dialect.name == "postgresql"
    with database.engine.begin() as connection:
        for statement in POSTGRES_TRIGGER if postgres else SQLITE_TRIGGER:
            connection.execute(text(statement))
    try:
        yield
    finally:
        _drop_trigger(database, postgres)


def _drop_trigger(database: Database, postgres: bool) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            text("DROP TRIGGER photo_file_fails" + (" ON photo_file" if postgres else ""))
        )
        if postgres:
            connection.execute(text("DROP FUNCTION photo_file_fails()"))


async def test_a_database_failure_after_storing_leaves_no_orphan_files(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    issue_id = report(db, database, city)

    with photo_rows_refused(database):
        response = await upload(
            client, settings, city.reporter, issue_id, ("p.jpg", images.phone_jpeg(2000, 1500))
        )

    assert response.status_code == 409, response.text
    nothing_stored(database, stored)


async def test_a_failed_upload_keeps_the_files_another_issue_shares(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    """Files are keyed by their bytes: the same photo on two issues is stored once, and undoing
    the second upload must not delete what the first one stored."""
    photo = ("p.jpg", images.phone_jpeg(2000, 1500))
    first = await upload(client, settings, city.reporter, report(db, database, city), photo)
    assert first.status_code == 201
    kept = stored.list_keys()

    with photo_rows_refused(database):
        second = await upload(client, settings, city.reporter, report(db, database, city), photo)

    assert second.status_code == 409
    assert stored.list_keys() == kept
    shown = await client.get(first.json()[0]["urls"]["display"])
    assert shown.status_code == 200


@pytest.mark.parametrize("backend", ["local"])
async def test_a_disk_failure_half_way_removes_the_files_already_written(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    photo = images.phone_jpeg(2000, 1500)
    clean = clean_photo(photo, limits_of(settings), name="p.jpg")
    display = clean.renditions[PhotoVariant.display]
    # A directory where the display file must go: the full size is written, then this fails.
    blocker = settings.photo_dir / content_key(display.data, clean.content_type)
    blocker.mkdir(parents=True)
    issue_id = report(db, database, city)

    response = await upload(client, settings, city.reporter, issue_id, ("p.jpg", photo))

    assert response.status_code == 503, response.text
    assert problem_type(response) == "storage-unavailable"
    assert "nothing was saved" in response.json()["detail"]
    nothing_stored(database, stored)
    blocker.rmdir()


@pytest.mark.parametrize("backend", ["s3"])
async def test_a_removed_bucket_refuses_the_upload_cleanly(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    bucket: Bucket,
) -> None:
    bucket.client.delete_bucket(Bucket=bucket.name)
    issue_id = report(db, database, city)

    response = await upload(
        client, settings, city.reporter, issue_id, ("p.jpg", images.phone_jpeg(800, 600))
    )

    assert response.status_code == 503, response.text
    assert problem_type(response) == "storage-unavailable"
    bucket.client.create_bucket(Bucket=bucket.name)
    nothing_stored(database, bucket)
