"""Phone photos go in whole and come out clean: upright, resized, without a trace of where the
reporter stood, on the local store and on an S3-compatible bucket alike."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Photo, PhotoFile
from tests.factories import IN_WEST, bearer
from tests.lifecycle.helpers import City, drive, report, stored_count, stored_events
from tests.photos import images
from tests.photos.helpers import Stored, image, metadata_of, multipart, upload


async def test_a_phone_photo_is_stored_upright_and_without_any_metadata(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    original = images.phone_jpeg()  # 4000×3000 on the sensor, orientation 6, GPS, maker note
    assert metadata_of(original)  # the test photo really carries what must be removed
    issue_id = report(db, database, city)

    response = await upload(client, settings, city.reporter, issue_id, ("IMG_0042.jpg", original))

    assert response.status_code == 201, response.text
    (photo,) = response.json()
    assert photo["kind"] == "report"
    assert (photo["width"], photo["height"]) == (3000, 4000)  # turned upright: portrait
    assert photo["content_type"] == "image/jpeg"
    assert photo["captured_at"] == "2026-11-20T01:15:30Z"  # 08:15:30 at +07:00
    assert photo["hidden"] is False
    keys = stored.list_keys()
    assert len(keys) == 3  # full, display, thumbnail
    for key in keys:
        assert metadata_of(stored.read(key)) == {}, key
    sizes = sorted(image(stored.read(key)).size for key in keys)
    assert sizes == [(240, 320), (1200, 1600), (3000, 4000)]

    for variant, size in (("thumbnail", (240, 320)), ("display", (1200, 1600))):
        served = await client.get(photo["urls"][variant])
        assert served.status_code == 200, served.text
        assert metadata_of(served.content) == {}
        upright = image(served.content)
        assert upright.size == size
        # The red band the camera saw along the sensor's top edge is now on the right.
        pixel = upright.convert("RGB").getpixel((size[0] - 2, size[1] // 2))
        assert isinstance(pixel, tuple)
        assert pixel[0] > 180
        assert pixel[1] < 80
    events = stored_events(database, issue_id)
    assert [e.action for e in events] == ["reported", "photo_added"]
    assert events[-1].photo_id == photo["id"]


@pytest.mark.parametrize("backend", ["local"])
@pytest.mark.parametrize(
    ("name", "make", "content_type"),
    [
        ("IMG_0001.HEIC", images.phone_heic, "image/jpeg"),
        ("screenshot.png", images.png, "image/jpeg"),
        ("sticker.png", lambda: images.png(alpha=True), "image/png"),
        ("shared.webp", images.webp, "image/jpeg"),
    ],
)
async def test_heic_png_and_webp_are_accepted_and_cleaned(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
    name: str,
    make: object,
    content_type: str,
) -> None:
    assert callable(make)
    issue_id = report(db, database, city)

    response = await upload(client, settings, city.reporter, issue_id, (name, make()))

    assert response.status_code == 201, response.text
    assert response.json()[0]["content_type"] == content_type
    for key in stored.list_keys():
        assert metadata_of(stored.read(key)) == {}
        assert (
            image(stored.read(key)).format
            == {"image/jpeg": "JPEG", "image/png": "PNG"}[content_type]
        )


async def test_a_report_and_its_photos_arrive_in_one_request(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    body = (
        '{"category": "pothole", "title": "Deep pothole by the bus stop", '
        f'"latitude": {IN_WEST[1]}, "longitude": {IN_WEST[0]}}}'
    )
    response = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "3f1c2a7e-0d4b-4c1e-9a55-6d9f0c1b2e3a"},
        **multipart(
            ("a.jpg", images.phone_jpeg(1600, 1200)), ("b.webp", images.webp()), issue=body
        ),
    )

    assert response.status_code == 201, response.text
    issue = response.json()
    assert issue["title"] == "Deep pothole by the bus stop"
    assert [p["kind"] for p in issue["photos"]] == ["report", "report"]
    assert stored_count(database, Photo) == 2
    public = (await client.get(f"/api/v1/issues/{issue['id']}")).json()
    assert [p["id"] for p in public["photos"]] == [p["id"] for p in issue["photos"]]
    assert all(p["urls"]["full"] is None for p in public["photos"])  # full size: staff only
    # Photos no larger than the display size are stored once for both (same bytes, same key).
    assert len(stored.list_keys()) == 4


async def test_a_bad_report_with_photos_stores_neither(
    client: httpx.AsyncClient, db: Session, database: Database, city: City, stored: Stored
) -> None:
    response = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "3f1c2a7e-0d4b-4c1e-9a55-6d9f0c1b2e3a"},
        **multipart(
            ("a.jpg", images.phone_jpeg(800, 600)),
            issue='{"category": "no-such-thing", "title": "Pothole", "latitude": 13.72, '
            '"longitude": 100.52}',
        ),
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == "body.category"
    assert stored.list_keys() == []
    assert stored_count(database, Photo) == 0


async def test_the_handling_agency_adds_the_after_picture(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    backend: str,
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")

    response = await upload(
        client,
        settings,
        city.agent,
        issue_id,
        ("fixed.jpg", images.phone_jpeg(1200, 900, orientation=1)),
        kind="resolution",
    )

    assert response.status_code == 201, response.text
    assert response.json()[0]["kind"] == "resolution"
    staff_view = (
        await client.get(f"/api/v1/issues/{issue_id}", headers=bearer(settings, city.agent))
    ).json()
    assert staff_view["photos"][0]["urls"]["full"] is not None
    full = await client.get(
        staff_view["photos"][0]["urls"]["full"], headers=bearer(settings, city.agent)
    )
    assert full.status_code == 200
    assert image(full.content).size == (1200, 900)
    public_full = await client.get(staff_view["photos"][0]["urls"]["full"])
    assert public_full.status_code == 403


async def test_an_idempotent_retry_stores_the_photo_once(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    issue_id = report(db, database, city)
    photo = ("IMG_1.jpg", images.phone_jpeg(1200, 900))
    key = {"Idempotency-Key": "photo-retry-0001"}

    first = await upload(client, settings, city.reporter, issue_id, photo, headers=key)
    again = await upload(client, settings, city.reporter, issue_id, photo, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert stored_count(database, Photo) == 1
    assert stored_count(database, PhotoFile) == 3
    assert len(stored.list_keys()) == 2  # full and display are the same bytes at this size
