"""The city file's time_zone is the one local dates are in: statistics per local day, Open311
and SeeClickFix times with the city's offset, whatever CIVICLOOP_TIMEZONE says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from app import city
from app.config import Settings
from app.models import Issue
from app.services.seeclickfix import issue_number
from app.spatial import backend_for
from tests.city.conftest import IN_301

# 03:00 UTC on 1 December is still 30 November, 22:00, in New York (EST, UTC-5).
REPORTED = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


async def test_local_dates_follow_the_city_file(
    client: httpx.AsyncClient, db: Session, nyc_file: Path, settings: Settings
) -> None:
    assert settings.timezone == "UTC"  # the setting says otherwise: the city file wins
    city.apply(db, city=city.load(nyc_file), spatial=backend_for(db.get_bind().engine))
    db.commit()
    created = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "nyc-local-time-device"},
        json={
            "category": "street-light",
            "title": "Dark",
            "longitude": IN_301[0],
            "latitude": IN_301[1],
        },
    )
    assert created.status_code == 201, created.text
    public_id = created.json()["id"]
    db.execute(
        update(Issue)
        .where(Issue.public_id == public_id)
        .values(created_at=REPORTED, updated_at=REPORTED, version=Issue.version)
    )
    db.commit()

    series = (await client.get("/api/v1/stats/series/reported", params={"period": "day"})).json()
    assert series["timezone"] == "America/New_York"
    assert [(p["period"], p["count"]) for p in series["series"]] == [("2026-11-30", 1)]

    [request] = (await client.get(f"/open311/v2/requests/{public_id}.json")).json()
    assert request["requested_datetime"] == "2026-11-30T22:00:00-05:00"

    issue = (await client.get(f"/seeclickfix/api/v2/issues/{issue_number(public_id)}")).json()
    assert issue["created_at"] == "2026-11-30T22:00:00-05:00"
    # A time without an offset is New York's: 22:00 there is when it was reported.
    found = await client.get(
        "/seeclickfix/api/v2/issues", params={"after": "2026-11-30T22:00:00", "fields[issue]": "id"}
    )
    assert found.json()["issues"] == [{"id": issue_number(public_id)}]
    later = await client.get("/seeclickfix/api/v2/issues", params={"after": "2026-11-30T22:00:01"})
    assert later.json()["issues"] == []
