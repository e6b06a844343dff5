"""Every bad upload is refused with a problem+json 4xx a person can act on, and leaves nothing
behind: no row, no timeline event, no file on disk, no object in the bucket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Photo
from tests.factories import bearer
from tests.lifecycle.helpers import City, drive, problem_type, report, stored_count
from tests.photos import images
from tests.photos.helpers import Stored, nothing_stored, upload

BAD_FILES: list[tuple[str, Callable[[], bytes], int, str]] = [
    ("empty.jpg", lambda: b"", 422, "invalid-photo"),
    ("notes.jpg", lambda: images.TEXT, 415, "unsupported-photo-type"),
    ("page.jpg", lambda: images.HTML, 415, "unsupported-photo-type"),
    ("drawing.svg", lambda: images.SVG, 415, "unsupported-photo-type"),
    ("polyglot.jpg", images.jpeg_with_html, 415, "unsupported-photo-type"),
    ("cut-off.jpg", images.truncated_jpeg, 422, "invalid-photo"),
    ("bomb.png", images.png_bomb, 422, "invalid-photo"),
    ("huge.png", lambda: images.png_bomb(10_000, 5_000), 422, "invalid-photo"),
]


@pytest.mark.parametrize(
    ("name", "make", "status", "slug"), BAD_FILES, ids=[case[0] for case in BAD_FILES]
)
async def test_a_bad_file_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
    name: str,
    make: Callable[[], bytes],
    status: int,
    slug: str,
) -> None:
    issue_id = report(db, database, city)

    response = await upload(client, settings, city.reporter, issue_id, (name, make()))

    assert response.status_code == status, response.text
    assert problem_type(response) == slug
    assert f"Photo 1 ({name!r})" in response.json()["detail"]
    nothing_stored(database, stored)


async def test_one_bad_photo_among_good_ones_stores_none_of_them(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    issue_id = report(db, database, city)

    response = await upload(
        client,
        settings,
        city.reporter,
        issue_id,
        ("good.jpg", images.phone_jpeg(800, 600)),
        ("bad.jpg", images.truncated_jpeg()),
    )

    assert response.status_code == 422
    assert "Photo 2 ('bad.jpg')" in response.json()["detail"]
    nothing_stored(database, stored)


async def _post_streamed_photo(
    client: httpx.AsyncClient, issue_id: str, headers: dict[str, str], total: int
) -> tuple[httpx.Response, int]:
    """Upload one `total`-byte photo part as a stream; the answer and how much the server read."""
    boundary = "b0undary"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=photo; filename=big.jpg\r\n"
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    chunk = 64 * 1024
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        yield head + images.phone_jpeg(800, 600)[:100]
        while read < total:
            read += chunk
            yield b"\0" * chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        f"/api/v1/issues/{issue_id}/photos",
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    return response, read


async def test_an_oversized_photo_is_refused_while_it_streams(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    """The server stops reading at the limit: most of the 40 MB body is never sent."""
    issue_id = report(db, database, city)
    response, read = await _post_streamed_photo(
        client, issue_id, bearer(settings, city.reporter), 40_000_000
    )

    assert response.status_code == 413, response.text
    assert problem_type(response) == "photo-too-large"
    assert "larger than 10 MB" in response.json()["detail"]
    assert settings.photo_max_bytes <= read < settings.photo_max_bytes + 256 * 1024
    nothing_stored(database, stored)


@pytest.mark.parametrize("backend", ["local"])
async def test_a_forbidden_upload_is_refused_before_its_photos_are_decoded(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    """The body is read whole first (under the size limit and the body deadline: no lock waits
    on it, app.http.body); the permission is checked before any photo is decoded or stored."""
    issue_id = report(db, database, city)
    response, _ = await _post_streamed_photo(
        client, issue_id, bearer(settings, city.stranger), 5_000_000
    )

    assert response.status_code == 403
    nothing_stored(database, stored)


async def test_more_photos_than_an_issue_may_hold_are_refused(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    issue_id = report(db, database, city)
    photo = images.phone_jpeg(320, 240, orientation=1)

    too_many = await upload(
        client, settings, city.reporter, issue_id, *[(f"{n}.jpg", photo) for n in range(6)]
    )
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["code"] == "too_many_photos"
    nothing_stored(database, stored)

    for n in range(5):
        added = await upload(client, settings, city.reporter, issue_id, (f"{n}.jpg", photo))
        assert added.status_code == 201, added.text
    keys = stored.list_keys()
    sixth = await upload(client, settings, city.reporter, issue_id, ("6.jpg", photo))
    assert sixth.status_code == 409
    assert problem_type(sixth) == "photo-limit-reached"
    assert sixth.json()["max_photos"] == 5
    assert stored.list_keys() == keys


async def test_a_photo_on_someone_elses_issue_is_forbidden(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    issue_id = report(db, database, city)

    response = await upload(
        client, settings, city.stranger, issue_id, ("mine.jpg", images.phone_jpeg(320, 240))
    )

    assert response.status_code == 403
    assert problem_type(response) == "forbidden"
    nothing_stored(database, stored)


async def test_a_citizen_cannot_add_a_resolution_photo(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")

    response = await upload(
        client,
        settings,
        city.reporter,
        issue_id,
        ("fixed.jpg", images.phone_jpeg(320, 240)),
        kind="resolution",
    )

    assert response.status_code == 403
    assert "agency handling the issue" in response.json()["detail"]
    nothing_stored(database, stored)


@pytest.mark.parametrize("backend", ["local"])
@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        ({"json": {"photo": "x"}}, 415),
        ({"files": [("photo", ("a.jpg", b"", "image/jpeg"))], "data": {"note": "hi"}}, 422),
        (
            {
                "content": b"--x--\r\n",
                "headers": {"Content-Type": "multipart/form-data; boundary=x"},
            },
            422,
        ),
        (
            {
                "content": b"--x\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--x--\r\n",
                "headers": {"Content-Type": "multipart/form-data; boundary=x"},
            },
            400,
        ),
        ({"content": b"garbage", "headers": {"Content-Type": "multipart/form-data"}}, 400),
    ],
    ids=["json", "unknown-part", "no-photo", "part-without-name", "no-boundary"],
)
async def test_malformed_upload_requests_get_clear_answers(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
    request_kwargs: dict[str, object],
    status: int,
) -> None:
    issue_id = report(db, database, city)
    kwargs = dict(request_kwargs)
    headers = {**bearer(settings, city.reporter), **kwargs.pop("headers", {})}  # type: ignore[dict-item]

    response = await client.post(
        f"/api/v1/issues/{issue_id}/photos",
        headers=headers,
        **kwargs,  # type: ignore[arg-type]
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    nothing_stored(database, stored)


@pytest.mark.parametrize("backend", ["local"])
async def test_a_multipart_report_without_the_report_is_refused(
    client: httpx.AsyncClient, database: Database, city: City, stored: Stored
) -> None:
    response = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "3f1c2a7e-0d4b-4c1e-9a55-6d9f0c1b2e3a"},
        files=[("photo", ("a.jpg", images.phone_jpeg(320, 240), "image/jpeg"))],
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == "body.issue"
    nothing_stored(database, stored)


@pytest.mark.parametrize("backend", ["local"])
async def test_two_uploads_at_once_cannot_both_take_the_last_place(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    issue_id = report(db, database, city)
    four = [(f"{n}.jpg", images.phone_jpeg(320 + n, 240)) for n in range(4)]
    assert (await upload(client, settings, city.reporter, issue_id, *four)).status_code == 201

    racing = await asyncio.gather(
        *(
            upload(client, settings, city.reporter, issue_id, (f"{n}.jpg", images.webp(400 + n)))
            for n in range(2)
        )
    )

    assert sorted(r.status_code for r in racing) == [201, 409]
    (loser,) = [r for r in racing if r.status_code == 409]
    assert problem_type(loser) == "photo-limit-reached"
    assert stored_count(database, Photo) == 5
