"""A fixed set of issues whose every attribute the query tests know, so that each expected
answer can be written down by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Agency, Category, Issue, LonLat, Resolution, Role, User
from app.services import issues, lifecycle
from app.services.lifecycle import Action
from tests.factories import make_agency, make_category, make_user
from tests.geodesy import destination

# Democracy Monument, Bangkok.
CENTRE = (100.5018, 13.7563)
CITY = (100.3, 13.5, 100.9, 14.0)
REPORTER_EMAIL = "somchai.private@example.org"
REPORTER_NAME = "Somchai Privatename"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Spec:
    category: str
    title: str
    description: str
    at: tuple[float, float]
    created: str  # UTC
    updated: str  # UTC
    path: tuple[Action, ...] = ()
    by: str = "city"  # the agency that claims it, if the path claims it


SPECS: dict[str, Spec] = {
    "rama4": Spec(
        "pothole",
        "Deep pothole on Rama IV",
        "Cars swerve into the next lane.",
        destination(CENTRE, 0, 100),
        "2026-03-01T08:00:00",
        "2026-03-10T00:00:00",
    ),
    "silom": Spec(
        "pothole",
        "หลุมบ่อบนถนนสีลม",
        "รถจักรยานยนต์ล้มเมื่อคืน",
        destination(CENTRE, 90, 300),
        "2026-03-02T08:00:00",
        "2026-03-11T00:00:00",
        (Action.claim,),
    ),
    "soi5": Spec(
        "streetlight",
        "Street LIGHT out on Soi 5",
        "ไฟดับทั้งซอย มืดมาก",
        destination(CENTRE, 180, 800),
        "2026-03-03T08:00:00",
        "2026-03-12T00:00:00",
        (Action.claim, Action.start),
        by="metro",
    ),
    "lamp": Spec(
        "streetlight",
        "เสาไฟฟ้าล้ม",
        "Lamp post down, 100% dark at night",
        destination(CENTRE, 270, 1500),
        "2026-03-04T08:00:00",
        "2026-03-13T00:00:00",
        (Action.claim, Action.resolve),
    ),
    "rubbish": Spec(
        "garbage",
        "Rubbish not collected",
        "ขยะล้นถังมาสามวัน",
        destination(CENTRE, 45, 5000),
        "2026-03-05T08:00:00",
        "2026-03-05T08:00:00",
    ),
    "school": Spec(
        "pothole",
        "Pothole_near the school gate",
        "",
        destination(CENTRE, 135, 20_000),
        "2026-03-06T08:00:00",
        "2026-03-20T00:00:00",
        (Action.claim, Action.resolve, Action.close),
        by="metro",
    ),
    # Reported in the same microsecond as rama4, at the same spot: ties in both sort orders.
    "twin": Spec(
        "pothole",
        "Another pothole on Rama IV",
        "Next to the first one",
        destination(CENTRE, 0, 100),
        "2026-03-01T08:00:00",
        "2026-03-01T08:00:00",
    ),
    # Outside every jurisdiction, about 100 km away.
    "outside": Spec(
        "garbage",
        "Rubbish at the beach",
        "",
        (100.95, 12.93),
        "2026-02-28T00:00:00",
        "2026-02-28T00:00:00",
    ),
}
# In the order they are reported (and so of their internal ids).
REPORT_ORDER = list(SPECS)
NEWEST_FIRST = ["school", "rubbish", "lamp", "soi5", "silom", "twin", "rama4", "outside"]


@dataclass(frozen=True)
class Catalogue:
    ids: dict[str, str]  # name -> public id
    names: dict[str, str]  # public id -> name
    agencies: dict[str, Agency]
    categories: dict[str, Category]
    reporter: User
    staff: dict[str, User]

    def named(self, public_ids: list[str]) -> list[str]:
        return [self.names[i] for i in public_ids]


def build_catalogue(db: Session, database: Database) -> Catalogue:
    categories = {code: make_category(db, code) for code in ("pothole", "streetlight", "garbage")}
    agencies = {
        "city": make_agency(db, bounds=CITY, categories=list(categories.values()), slug="city"),
        "metro": make_agency(
            db,
            bounds=CITY,
            categories=[categories["pothole"], categories["streetlight"]],
            slug="metro",
        ),
    }
    staff = {slug: make_user(db, Role.agent, agency=a) for slug, a in agencies.items()}
    reporter = make_user(db, email=REPORTER_EMAIL)
    reporter.display_name = REPORTER_NAME
    db.commit()
    ids: dict[str, str] = {}
    for name in REPORT_ORDER:
        spec = SPECS[name]
        issue = issues.create_issue(
            db,
            spatial=database.spatial,
            reporter=reporter,
            category_code=spec.category,
            title=spec.title,
            description=spec.description,
            location=LonLat(*spec.at),
            address=None,
        ).issue
        db.flush()
        for action in spec.path:
            lifecycle.transition(
                db,
                issue=issue,
                action=action,
                actor=staff[spec.by],
                expected_version=None,
                reopen_window=dt.timedelta(days=30),
                resolution=Resolution.fixed if action == Action.resolve else None,
            )
        ids[name] = issue.public_id
    db.commit()
    for name, spec in SPECS.items():
        db.execute(
            update(Issue)
            .where(Issue.public_id == ids[name])
            .values(created_at=utc(spec.created), updated_at=utc(spec.updated))
        )
    db.commit()
    return Catalogue(
        ids=ids,
        names={v: k for k, v in ids.items()},
        agencies=agencies,
        categories=categories,
        reporter=reporter,
        staff=staff,
    )
