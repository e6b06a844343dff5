"""A GeoReport client meets a busy server in its own error format: when no database connection
comes free, the answer is 503 with Retry-After and the spec's list of {code, description}, in
JSON or XML as the path asks, never problem+json (which a GeoReport client cannot read)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.models import Issue
from tests.open311.conftest import V2, Open311City
from tests.open311.helpers import JSON, XML, error_codes, request_form

POOL_SIZE = 1  # and as many again at a peak: two connections in all


@pytest.fixture
async def small_pool(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=POOL_SIZE, pool_timeout=0.2)
    yield database
    database.dispose()


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_no_free_connection_is_a_503_in_the_specs_error_format(
    settings: Settings, small_pool: Database, city: Open311City, db: Session, fmt: str
) -> None:
    app = create_app(settings, small_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with ExitStack() as held:
            for _ in range(2 * POOL_SIZE):
                held.enter_context(small_pool.engine.connect()).exec_driver_sql("SELECT 1")
            read = await client.get(f"{V2}/services.{fmt}")
            report = await client.post(f"{V2}/requests.{fmt}", data=request_form(city.api_key))

        for busy in (read, report):
            assert busy.status_code == 503, busy.text
            assert busy.headers["content-type"] == (JSON if fmt == "json" else XML)
            assert int(busy.headers["retry-after"]) >= 1
            assert error_codes(busy) == [503]
        assert "try again" in (read.json()[0]["description"] if fmt == "json" else read.text)
        assert db.scalar(select(Issue.id)) is None  # the refused report stored nothing

        # The connections are back: the same requests are served.
        assert (await client.get(f"{V2}/services.{fmt}")).status_code == 200
        retried = await client.post(f"{V2}/requests.{fmt}", data=request_form(city.api_key))
        assert retried.status_code == 200, retried.text
    app.state.photo_workers.shutdown(wait=True)
