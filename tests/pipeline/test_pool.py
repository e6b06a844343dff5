"""When every database connection stays busy, a request is answered 503 with Retry-After
within the pool timeout: never a 500, never a hang."""

from __future__ import annotations

import httpx

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.conftest import every_connection_held


async def test_a_request_finding_no_free_connection_is_answered_503_with_retry_after(
    settings: Settings, small_pool: Database
) -> None:
    app = create_app(settings, small_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with every_connection_held(small_pool):
            busy = await client.get("/api/v1/categories")
        assert busy.status_code == 503, busy.text
        assert busy.headers["content-type"] == "application/problem+json"
        assert int(busy.headers["retry-after"]) >= 1
        assert busy.json()["type"].endswith("/problems/busy")

        # The connections are back: the same request is served again.
        assert (await client.get("/api/v1/categories")).status_code == 200
    app.state.photo_workers.shutdown(wait=True)
