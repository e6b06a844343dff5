"""A report costs a fixed, short list of statements: what it writes is not read back, and the
number does not grow with the agencies it reaches or the staff they alert."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Role
from tests.counting import counted
from tests.factories import IN_WEST, make_agency, make_category, make_user

# The caller, the category and its questions, the district, the priority rules, the issue and
# its day's statistics (with the city's time zone), its flags, routing, candidates, follow and
# event, then who hears of it and their messages.
MAX_STATEMENTS = 21
# Rows a create writes: reading them afterwards is reading back what it already knows.
WRITTEN = ("issue", "issue_candidate", "issue_flag", "follow", "issue_event", "photo", "support")
DEVICE = {"X-Device-Id": "6f1c2a7e-0d4b-4c1e-9a55-6d9f0c1b2e3a"}


def _read_tables(statements: list[str]) -> set[str]:
    return {
        table
        for s in statements
        if s.lstrip().upper().startswith("SELECT")
        for table in re.findall(r"\b(?:FROM|JOIN)\s+\"?(\w+)", s)
    }


async def _report(client: httpx.AsyncClient, database: Database) -> list[str]:
    with counted(database) as statements:
        created = await client.post(
            "/api/v1/issues",
            headers=DEVICE,
            json={
                "category": "streetlight",
                "title": "Lamp out on Soi 5",
                "latitude": IN_WEST[1],
                "longitude": IN_WEST[0],
                "flags": ["safety_hazard"],
            },
        )
    assert created.status_code == 201, created.text
    assert created.json()["flags"] == ["safety_hazard"]
    assert created.json()["supporter_count"] == 0
    # SQLite's BEGIN IMMEDIATE goes through the cursor; psycopg sends PostgreSQL's itself.
    return [s for s in statements if not s.startswith("BEGIN")]


async def test_a_report_reads_back_nothing_it_wrote_and_costs_the_same_for_more_agencies(
    client: httpx.AsyncClient, db: Session, database: Database
) -> None:
    light = make_category(db, "streetlight")
    make_user(db, Role.agent, agency=make_agency(db, categories=[light]))
    await _report(client, database)  # the device's first report also creates its citizen
    one_agency = await _report(client, database)

    assert len(one_agency) <= MAX_STATEMENTS, "\n".join(one_agency)
    assert not _read_tables(one_agency) & set(WRITTEN)

    for _ in range(2):
        make_user(db, Role.manager, agency=make_agency(db, categories=[light]))
    await _report(client, database)  # SQLite's routing reloads the changed jurisdictions once
    three_agencies = await _report(client, database)
    assert len(_besides_messages(three_agencies)) == len(_besides_messages(one_agency))


def _besides_messages(statements: list[str]) -> list[str]:
    # One message row per recipient: PostgreSQL inserts them in one batch, SQLite one by one.
    return [s for s in statements if not s.startswith("INSERT INTO notification ")]
