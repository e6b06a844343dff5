"""When every database connection stays busy, a request is answered 503 with Retry-After
within the pool timeout: never a 500, never a hang."""

from __future__ import annotations

import httpx
import pytest

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


@pytest.mark.parametrize(("workers", "pool"), [(1, 10), (2, 5), (4, 2), (64, 1)])
def test_worker_processes_share_the_database_connections_between_them(
    settings: Settings, workers: int, pool: int
) -> None:
    shared = settings.model_copy(update={"workers": workers, "db_max_connections": 20})
    assert shared.db_pool_per_process == pool
    database = Database.from_settings(shared)
    try:
        # A pool, and as many again at a peak.
        assert database.engine.pool.size() == pool  # type: ignore[attr-defined]
    finally:
        database.dispose()


def test_a_fixed_pool_size_is_each_processs_whatever_the_workers(settings: Settings) -> None:
    fixed = settings.model_copy(update={"workers": 4, "db_pool_size": 7})
    assert fixed.db_pool_per_process == 7
