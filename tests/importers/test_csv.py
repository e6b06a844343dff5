"""`civicloop import csv`: NYC 311 and Traffy Fondue exports, and a mapped layout (Boston),
imported with their ids, dates, statuses, agencies, notes and media links; bad rows are
reported with their line and reason while the rest import; a second run imports nothing."""

from __future__ import annotations

import csv
import datetime as dt
import os
import statistics
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.importers import run, tabular
from app.importers.apply import DEFAULT_RESOLVE_HOURS
from app.models import Category, Issue, IssueEvent, IssueImport, IssueStatus
from app.services.catalog import GENERAL_CATEGORY_CODE
from tests.factories import count, make_category
from tests.importers.conftest import DATA, HERE

NYC = DATA / "nyc-311-2011-sample.csv"
TRAFFY = DATA / "traffy-fondue-bangkok-2023-05.csv"
BOSTON = DATA / "boston-311-2022-01-sample.csv"
NEW_YORK = ZoneInfo("America/New_York")
REPO = Path(__file__).resolve().parents[2]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _nyc_time(value: str) -> dt.datetime:
    local = dt.datetime.strptime(value, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=NEW_YORK)
    return local.astimezone(dt.UTC)


def _origin(db: Session, external_id: str) -> IssueImport:
    return db.scalars(select(IssueImport).where(IssueImport.external_id == external_id)).one()


def test_nyc_311_imports_every_placed_row_and_says_why_the_others_are_not(
    database: Database, db: Session, nyc_districts: int
) -> None:
    tally = run.import_csv(database, path=NYC, layout=tabular.NYC311, batch_size=300)

    rows = _rows(NYC)
    placed = [r for r in rows if r["Latitude"] and r["Longitude"]]
    assert (tally.imported, len(tally.rejected)) == (len(placed), len(rows) - len(placed))
    assert (tally.imported, len(tally.rejected)) == (1402, 598)
    assert tally.reasons() == {"no coordinates": 598}
    # Each rejected row names its line (the header is line 1) and its id.
    first_unplaced = next(i for i, r in enumerate(rows) if not r["Latitude"])
    assert tally.rejected[0].line == first_unplaced + 2
    assert tally.rejected[0].external_id == rows[first_unplaced]["Unique Key"]
    assert count(db, Issue) == 1402

    # Every field of one closed row.
    row = next(r for r in placed if r["Status"] == "Closed" and r["Incident Address"])
    origin = db.scalars(
        select(IssueImport).where(IssueImport.external_id == row["Unique Key"])
    ).one()
    issue = db.get_one(Issue, origin.issue_id)
    assert origin.source == "nyc311"
    assert origin.agency_name == row["Agency"]
    assert origin.source_status == "Closed"
    assert origin.zipcode == row["Incident Zip"]
    assert issue.status == IssueStatus.closed
    assert issue.created_at == _nyc_time(row["Created Date"])
    assert issue.closed_at == issue.resolved_at == _nyc_time(row["Closed Date"])
    assert issue.resolve_due_at == _nyc_time(row["Due Date"])
    assert issue.title == f"{row['Complaint Type']} - {row['Descriptor']}"
    assert issue.address == f"{row['Incident Address']}, {row['City']}"
    assert (issue.location.lat, issue.location.lon) == (
        float(row["Latitude"]),
        float(row["Longitude"]),
    )
    events = list(
        db.scalars(
            select(IssueEvent).where(IssueEvent.issue_id == issue.id).order_by(IssueEvent.id)
        )
    )
    assert [(e.action, e.to_status, e.imported) for e in events] == [
        ("reported", IssueStatus.open, True),
        ("closed", IssueStatus.closed, True),
    ]
    assert events[0].created_at == issue.created_at
    assert events[1].created_at == issue.closed_at
    assert events[1].note == row["Resolution Description"]
    category = db.get_one(Category, issue.category_id)
    assert (category.name_en, category.is_active) == (row["Complaint Type"], False)

    # Placed in its community district: the data's README counts 1,399 of the 1,402 inside one.
    placed_in_district = db.scalar(
        select(func.count()).select_from(Issue).where(Issue.district_id.is_not(None))
    )
    assert placed_in_district == 1399

    again = run.import_csv(database, path=NYC, layout=tabular.NYC311)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 1402)
    assert count(db, Issue) == 1402


def _due(row: dict[str, str]) -> dt.datetime:
    """The row's due date; without one, the target of the category the import created."""
    if row["Due Date"]:
        return _nyc_time(row["Due Date"])
    return _nyc_time(row["Created Date"]) + dt.timedelta(hours=DEFAULT_RESOLVE_HOURS)


async def test_imported_history_counts_in_the_kpis_like_native_history(
    database: Database, client: httpx.AsyncClient
) -> None:
    run.import_csv(database, path=NYC, layout=tabular.NYC311)
    placed = [r for r in _rows(NYC) if r["Latitude"] and r["Status"] == "Closed"]
    minutes = [
        int((_nyc_time(r["Closed Date"]) - _nyc_time(r["Created Date"])).total_seconds() // 60)
        for r in placed
    ]
    in_time = [r for r in placed if _nyc_time(r["Closed Date"]) <= _due(r)]

    answer = await client.get("/api/v1/stats/timings/resolve")
    assert answer.status_code == 200, answer.text
    timing = answer.json()
    assert timing["count"] == len(placed)
    assert timing["median_hours"] == pytest.approx(statistics.median_low(minutes) / 60, abs=0.02)
    assert timing["within_target"] == len(in_time)

    counts = (await client.get("/api/v1/stats/counts/status")).json()["counts"]
    assert {c["key"]: c["count"] for c in counts}["closed"] == len(placed)


async def test_the_original_id_finds_the_imported_issue(
    database: Database, client: httpx.AsyncClient
) -> None:
    run.import_csv(database, path=TRAFFY, layout=tabular.TRAFFY)

    found = await client.get("/api/v1/issues", params={"q": "2023-6CG32T"})
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert [i["title"] for i in items] == ["สายไฟระโยงระยาง ไม่เรียบร้อย รกรุงรังมาก"]
    events = (await client.get(f"/api/v1/issues/{items[0]['id']}/events")).json()
    assert [(e["action"], e["imported"]) for e in events] == [("reported", True)]


def test_traffy_fondue_keeps_thai_text_links_and_routing_order(
    database: Database, db: Session
) -> None:
    tally = run.import_csv(database, path=TRAFFY, layout=tabular.TRAFFY)
    rows = _rows(TRAFFY)
    no_id = [r for r in rows if not r["ticket_id"]]
    assert tally.reasons() == {"no id": len(no_id)}
    assert tally.imported == len(rows) - len(no_id) == 988

    row = next(r for r in rows if r["photo_after"] and "," in r["organization"])
    origin = _origin(db, row["ticket_id"])
    issue = db.get_one(Issue, origin.issue_id)
    assert origin.media_urls == [row["photo"], row["photo_after"]]
    # The first agency in routing order is the one responsible.
    assert origin.agency_name == row["organization"].split(",")[0]
    assert origin.source_status == row["state"]
    assert issue.description == row["comment"].strip()
    assert issue.created_at == dt.datetime.fromisoformat(row["timestamp"])
    assert issue.reopen_count == int(row["count_reopen"])
    category = db.get_one(Category, issue.category_id)
    assert category.name_th == row["type"].strip("{}").split(",")[0]

    # Reports that named no category wait in the city's general category (triage).
    general = db.scalars(select(Category).where(Category.code == GENERAL_CATEGORY_CODE)).one()
    in_general = db.scalar(
        select(func.count()).select_from(Issue).where(Issue.category_id == general.id)
    )
    assert in_general == sum(1 for r in rows if r["ticket_id"] and r["type"] == "{}") == 92


def test_an_import_may_name_another_category_for_rows_that_name_none(
    database: Database, db: Session
) -> None:
    other = make_category(db, "other")
    tally = run.import_csv(database, path=TRAFFY, layout=tabular.TRAFFY, fallback_category="other")
    assert tally.imported == 988
    in_other = db.scalar(
        select(func.count()).select_from(Issue).where(Issue.category_id == other.id)
    )
    assert in_other == 92


def test_a_fallback_category_that_does_not_exist_stops_the_import_before_anything_is_stored(
    database: Database, db: Session
) -> None:
    with pytest.raises(run.CannotImport, match="'other'"):
        run.import_csv(database, path=TRAFFY, layout=tabular.TRAFFY, fallback_category="other")
    assert count(db, Issue) == 0


def test_an_interrupted_import_resumes_with_the_rows_not_yet_stored(
    database: Database, db: Session, tmp_path: Path
) -> None:
    lines = BOSTON.read_text(encoding="utf-8").splitlines(keepends=True)
    first_part = tmp_path / "boston-first-40.csv"
    first_part.write_text("".join(lines[:41]), encoding="utf-8")
    layout = tabular.load_layout(HERE / "boston.toml")

    stopped = run.import_csv(database, path=first_part, layout=layout)
    resumed = run.import_csv(database, path=BOSTON, layout=layout)

    assert (stopped.imported, resumed.imported, resumed.unchanged) == (40, 60, 40)
    assert count(db, Issue) == 100


def test_a_mapping_file_describes_any_other_layout_from_the_command_line(
    database_url: str, db: Session, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "CIVICLOOP_DATABASE_URL": database_url,
        "CIVICLOOP_DATA_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "app.cli", "import", "csv", str(BOSTON)]
    command += ["--mapping", str(HERE / "boston.toml")]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "imported 100, updated 0, unchanged 0, rejected 0"

    rows = _rows(BOSTON)
    row = next(r for r in rows if r["case_status"] == "Closed" and r["submittedphoto"])
    origin = db.scalars(
        select(IssueImport).where(IssueImport.external_id == row["case_enquiry_id"])
    ).one()
    issue = db.get_one(Issue, origin.issue_id)
    assert origin.media_urls == [row["submittedphoto"]]
    assert issue.closed_at is not None
    assert issue.closed_at == dt.datetime.fromisoformat(row["closed_dt"]).replace(tzinfo=NEW_YORK)

    again = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    assert again.stdout.splitlines()[0] == "imported 0, updated 0, unchanged 100, rejected 0"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"source": "x", "id": "id"}', "created: Field required"),
        ('{"source": "x", "id": "id", "created": "t", "status": "s", "colour": 1}', "colour"),
        ('{"source": "x", "id": "id", "created": "t", "default_status": "open"}', "coordinates"),
        ("{not json", "not valid json"),
    ],
)
def test_a_mapping_file_with_a_mistake_is_refused_naming_the_field(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "layout.json"
    path.write_text(content)
    with pytest.raises(tabular.LayoutError, match=message):
        tabular.load_layout(path)


def test_a_layout_naming_columns_the_file_lacks_is_refused_before_anything_is_stored(
    database: Database, db: Session
) -> None:
    with pytest.raises(tabular.LayoutError, match="'Unique Key'"):
        run.import_csv(database, path=TRAFFY, layout=tabular.NYC311)
    assert count(db, Issue) == 0
