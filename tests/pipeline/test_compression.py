"""Text answers travel gzipped to clients that accept it, the same body once decoded; event
streams and images travel as they are."""

from __future__ import annotations

import gzip

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Role
from tests.factories import bearer, make_category, make_issue, make_user
from tests.work.sse import messages_of

GEOJSON = {"Accept": "application/geo+json"}


def _reports(db: Session, database: Database, count: int) -> None:
    reporter = make_user(db)
    category = make_category(db, "streetlight")
    for n in range(count):
        make_issue(
            db, database.spatial, reporter=reporter, category=category, title=f"Street light {n}"
        )


async def test_a_large_answer_is_gzipped_only_for_a_client_that_accepts_gzip(
    client: httpx.AsyncClient, db: Session, database: Database
) -> None:
    _reports(db, database, 20)
    accepts = {**GEOJSON, "Accept-Encoding": "br;q=1, gzip;q=0.8"}
    async with client.stream("GET", "/api/v1/issues", headers=accepts) as zipped:
        wire = b"".join([chunk async for chunk in zipped.aiter_raw()])
    plain = await client.get("/api/v1/issues", headers={**GEOJSON, "Accept-Encoding": "identity"})

    assert zipped.status_code == plain.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    for answer in (zipped, plain):
        assert "accept-encoding" in answer.headers["vary"].lower()
    assert gzip.decompress(wire) == plain.content
    assert int(zipped.headers["content-length"]) == len(wire) < len(plain.content) / 4


async def test_a_small_answer_is_not_worth_compressing(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers


async def test_a_head_names_the_encoding_and_length_its_get_would_have(
    client: httpx.AsyncClient, db: Session, database: Database
) -> None:
    _reports(db, database, 5)
    headers = {**GEOJSON, "Accept-Encoding": "gzip"}
    got = await client.get("/api/v1/issues", headers=headers)
    head = await client.head("/api/v1/issues", headers=headers)

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-encoding"] == got.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == got.headers["content-length"]


async def test_the_live_feed_streams_uncompressed_so_no_event_waits_for_a_buffer(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings
) -> None:
    _reports(db, database, 10)
    admin = bearer(settings, make_user(db, Role.admin))
    answer = await client.get(
        "/api/v1/feed",
        params={"last_event_id": "0"},
        headers={**admin, "Accept-Encoding": "gzip"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in answer.headers
    assert len(messages_of(answer.text)) == 10
