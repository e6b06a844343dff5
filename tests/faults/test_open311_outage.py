"""A GeoReport client reporting while the database goes away is told to retry in its own error
format (503, Retry-After, the spec's list of {code, description}), never problem+json or 500,
and is served again by the same app once the database is back."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.models import User
from tests.conftest import TEST_SECRET
from tests.factories import IN_WEST, make_api_key, make_category, make_user
from tests.faults.conftest import FaultyDatabase
from tests.open311.helpers import JSON, error_codes


def _report(api_key: str, n: int) -> dict[str, str]:
    return {
        "api_key": api_key,
        "service_code": "pothole",
        "lat": str(IN_WEST[1]),
        "long": str(IN_WEST[0]),
        "description": f"Pothole {n} reported through the outage",
    }


async def test_an_open311_client_is_told_to_retry_in_its_own_format(
    faulty_database: FaultyDatabase, tmp_path: Path
) -> None:
    with faulty_database.database.session(write=True) as session:
        make_category(session, "pothole")
        integration: User = make_user(session)
        api_key = make_api_key(session, integration)
    # The outage's own settings (a short SQLite busy timeout), named as in the environment.
    outage_settings: dict[str, Any] = {
        name.removeprefix("CIVICLOOP_").lower(): value
        for name, value in faulty_database.settings.items()
    }
    settings = Settings(
        environment="test",
        database_url=faulty_database.url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        _env_file=None,
        **outage_settings,
    )
    database = Database.from_settings(settings)
    app = create_app(settings, database)
    answers: Counter[int] = Counter()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            outage = asyncio.create_task(asyncio.to_thread(faulty_database.outage))
            n = 0
            while not outage.done():
                n += 1
                response = await client.post("/open311/v2/requests.json", data=_report(api_key, n))
                answers[response.status_code] += 1
                if response.status_code == 503:
                    assert response.headers["content-type"] == JSON
                    assert int(response.headers["retry-after"]) >= 1
                    assert error_codes(response) == [503]
                    await asyncio.sleep(0.1)
                else:
                    assert response.status_code == 200, response.text
            await outage

            after = await client.post("/open311/v2/requests.json", data=_report(api_key, 0))
            assert after.status_code == 200, after.text
    finally:
        app.state.photo_workers.shutdown(wait=True)
        database.dispose()
    print(f"\n{faulty_database.what}: answers {dict(answers)}")
    assert answers[503] > 0, "the outage was never felt: the test proves nothing"
