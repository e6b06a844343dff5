"""Seeding: a dedicated PostGIS database with the demo city and N issues, bulk-loaded with COPY.

The schema comes from the migrations and the catalogue from `app.demo.load_demo_city`, exactly as
in production. Issues, their candidate agencies, their timelines and their reporters are then
generated here and COPY'd in, with the secondary indexes and the unique and foreign-key constraints
of those tables dropped during the load and recreated from their own definitions afterwards, so
every row is checked against every constraint once, in bulk.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import sql
from shapely.ops import unary_union
from sqlalchemy import make_url

from app.db import Database
from app.dbmigrate import upgrade
from app.demo import district_code, district_slug, load_demo_city
from app.services.issues import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH
from bench.data import CityModel, district_features, load_city

LOOPBACK_HOSTS = frozenset({None, "127.0.0.1", "localhost", "::1"})
DEMO_PASSWORD = "civicloop-bench"
# Device identifiers of the seeded citizens: the benchmark reports as them over the API.
DEVICE_ID_PREFIX = "civicloop-bench-device-"
BENCH_EMAIL_DOMAIN = "bench.civicloop.example"
# Tables loaded in bulk: their secondary indexes and constraints wait until the data is in.
BULK_TABLES = ("user_account", "issue", "issue_candidate", "issue_event")

# How the issues are spread: most reports pile up on the same street as a real report (a flooded
# soi, a dark road), the rest are scattered over its neighbourhood.
NEAR_SHARE, NEAR_SIGMA_M, FAR_SIGMA_M = 0.6, 120.0, 1200.0
SAME_CATEGORY_AS_CENTRE = 0.5
METRES_PER_DEGREE = 111_195.0
DAYS = 365
RAINY_MONTHS = frozenset({5, 6, 7, 8, 9, 10})  # Bangkok's wet season: more floods, more reports
RAINY_FACTOR, WEEKEND_FACTOR = 1.35, 0.8
REPORTERS_PER_ISSUE = 0.25
REGISTERED_SHARE = 0.15

# The lifecycle: delays are log-normal around a median, in hours.
NEVER_CLAIMED = 0.04
STARTED = 0.7
STALLED = 0.04  # claimed (and maybe started) but never resolved
CLOSED = 0.85
REOPENED = 0.02
RESOLUTIONS = {"fixed": 78, "duplicate": 8, "not_actionable": 6, "referred": 5, "wont_fix": 3}
PRIORITIES = {"normal": 82, "high": 10, "low": 5, "urgent": 3}


def device_id(index: int) -> str:
    return f"{DEVICE_ID_PREFIX}{index:09d}"


def device_hash(device: str) -> str:
    return hashlib.sha256(device.encode()).hexdigest()  # as app.security.secret_digest


def conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(admin_url: str, name: str) -> str:
    return conninfo(make_url(admin_url).set(database=name).render_as_string(hide_password=False))


def check_loopback(url: str) -> None:
    host = make_url(url).host
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing to benchmark against {host!r}: only 127.0.0.1 is allowed")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    code: str
    acknowledge_hours: int
    resolve_hours: int


@dataclass
class Catalog:
    """What the generator and the benchmark need to know about the loaded demo city."""

    categories: dict[str, CategoryInfo]
    # category id -> agencies handling it, split into district offices and city-wide bodies
    district_handlers: dict[int, set[int]]
    citywide_handlers: dict[int, list[int]]
    district_agency: list[int | None]  # by district feature index
    district_id: list[int | None]  # by district feature index
    agent_of: dict[int, int]  # agency id -> one of its agents
    password_hash: str
    first_user_id: int


@dataclass
class SeedReport:
    issues: int
    users: int
    events: int
    candidates: int
    unrouted: int
    statuses: dict[str, int]
    categories: dict[str, int]
    source: str
    seconds: float
    routing_mismatches: int = 0
    table_sizes: dict[str, str] = field(default_factory=dict)


@dataclass
class Generated:
    staging: list[tuple[Any, ...]]
    candidates: list[tuple[int, int]]
    events: list[tuple[Any, ...]]
    users: list[tuple[Any, ...]]
    unrouted: int
    statuses: Counter[str]
    categories: Counter[str]


def recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(conninfo(admin_url), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(database_url(admin_url, name), autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def load_catalogue(url: str) -> None:
    """Schema by the migrations, categories, agencies and staff by the demo loader."""
    database = Database(url, pool_size=1)
    try:
        upgrade(database.engine)
        with database.session(write=True) as session, session.begin():
            load_demo_city(session, password=DEMO_PASSWORD)
    finally:
        database.dispose()


def read_catalog(connection: psycopg.Connection[Any]) -> Catalog:
    categories = {
        code: CategoryInfo(cid, code, ack, res)
        for cid, code, ack, res in connection.execute(
            "SELECT id, code, acknowledge_target_hours, resolve_target_hours FROM category "
            "WHERE is_active ORDER BY id"
        )
    }
    slugs: dict[str, int] = dict(connection.execute("SELECT slug, id FROM agency").fetchall())
    district_agency = [
        slugs.get(district_slug(f["properties"]["ADM2_EN"])) for f in district_features()
    ]
    districts = {a for a in district_agency if a is not None}
    codes: dict[str, int] = dict(connection.execute("SELECT code, id FROM district").fetchall())
    district_id = [
        codes.get(district_code(f["properties"]["ADM2_EN"])) for f in district_features()
    ]
    district_handlers: dict[int, set[int]] = {}
    citywide_handlers: dict[int, list[int]] = {}
    for agency_id, category_id in connection.execute(
        "SELECT agency_id, category_id FROM agency_category ORDER BY agency_id"
    ):
        if agency_id in districts:
            district_handlers.setdefault(category_id, set()).add(agency_id)
        else:
            citywide_handlers.setdefault(category_id, []).append(agency_id)
    agent_of: dict[int, int] = dict(
        connection.execute(
            "SELECT DISTINCT ON (agency_id) agency_id, id FROM user_account "
            "WHERE role = 'agent' ORDER BY agency_id, id"
        ).fetchall()
    )
    row = connection.execute(
        "SELECT max(id), max(password_hash) FROM user_account WHERE password_hash IS NOT NULL"
    ).fetchone()
    assert row is not None
    return Catalog(
        categories=categories,
        district_handlers=district_handlers,
        citywide_handlers=citywide_handlers,
        district_agency=district_agency,
        district_id=district_id,
        agent_of=agent_of,
        password_hash=row[1],
        first_user_id=int(row[0]) + 1,
    )


def _picker(rng: random.Random, weights: dict[str, float] | dict[str, int]) -> Callable[[], str]:
    keys = list(weights)
    cumulative = list(accumulate(float(weights[k]) for k in keys))
    total = cumulative[-1]
    rand = rng.random

    def pick() -> str:
        return keys[bisect.bisect_right(cumulative, rand() * total)]

    return pick


def _created_times(rng: random.Random, city: CityModel, count: int, end: float) -> list[float]:
    """Report times over the year before `end` (a UTC midnight): seasons, weekdays, hours."""
    start = end - DAYS * 86400
    day_weights = []
    for day in range(DAYS):
        date = dt.datetime.fromtimestamp(start + day * 86400, dt.UTC)
        weight = RAINY_FACTOR if date.month in RAINY_MONTHS else 1.0
        day_weights.append(weight * (WEEKEND_FACTOR if date.weekday() >= 5 else 1.0))
    days = list(accumulate(day_weights))
    hours = list(accumulate(city.hour_weights))
    rand = rng.random
    times = [
        start
        + 86400 * bisect.bisect_right(days, rand() * days[-1])
        + 3600 * bisect.bisect_right(hours, rand() * hours[-1])
        + 3600 * rand()
        for _ in range(count)
    ]
    times.sort()
    return times


def _districts_of(lons: list[float], lats: list[float]) -> tuple[list[list[int]], list[bool]]:
    """For each point: the districts covering it, and whether the whole city covers it."""
    geometries = [shapely.geometry.shape(f["geometry"]) for f in district_features()]
    points = shapely.points(lons, lats)
    found: list[list[int]] = [[] for _ in lons]
    point_index, district_index = (
        shapely.STRtree(geometries).query(points, predicate="covered_by").tolist()
    )
    for p, d in zip(point_index, district_index, strict=True):
        found[p].append(d)
    # The city-wide bodies' jurisdiction, as the demo loader builds it.
    city = unary_union(geometries)
    shapely.prepare(city)
    return found, [bool(x) for x in shapely.covered_by(points, city).tolist()]


def _hours(lognorm: Callable[[float, float], float], median_hours: float, sigma: float) -> float:
    return 3600.0 * lognorm(math.log(median_hours), sigma)


def _lifecycle(
    rand: Callable[[], float],
    lognorm: Callable[[float, float], float],
    category: CategoryInfo,
    created: float,
    routed: bool,
) -> list[tuple[str, float]]:
    """The steps this issue will take and when, future ones included (cut at "now" later)."""
    if not routed or rand() < NEVER_CLAIMED:
        return []
    t = created + _hours(lognorm, category.acknowledge_hours * 0.6, 1.1)
    steps = [("claimed", t)]
    if rand() < STARTED:
        t += _hours(lognorm, 8, 1.0)
        steps.append(("started", t))
    if rand() < STALLED:
        return steps
    t += _hours(lognorm, category.resolve_hours * 0.5, 1.0)
    steps.append(("resolved", t))
    if rand() < REOPENED:  # by the reporter, inside the 30-day window; then resolved again
        t += min(_hours(lognorm, 36, 0.8), 29 * 86400.0)
        steps.append(("reopened", t))
        t += _hours(lognorm, category.resolve_hours * 0.3, 1.0)
        steps.append(("resolved", t))
    if rand() < CLOSED:
        t += _hours(lognorm, 48, 1.0)
        steps.append(("closed", t))
    return steps


def _public_id(bits: int) -> str:
    return "".join(PUBLIC_ID_ALPHABET[(bits >> (5 * k)) & 31] for k in range(PUBLIC_ID_LENGTH))


def _users(rng: random.Random, catalog: Catalog, count: int, end: float) -> list[tuple[Any, ...]]:
    """Citizens: every one has a device; some also registered an e-mail."""
    rows: list[tuple[Any, ...]] = []
    for k in range(count):
        registered = rng.random() < REGISTERED_SHARE
        joined = dt.datetime.fromtimestamp(end - 86400 * rng.uniform(DAYS, 3 * DAYS), dt.UTC)
        rows.append(
            (
                catalog.first_user_id + k,
                f"citizen{k}@{BENCH_EMAIL_DOMAIN}" if registered else None,
                catalog.password_hash if registered else None,
                device_hash(device_id(k)),
                f"Citizen {k}" if registered else "",
                "citizen",
                None,
                "en" if rng.random() < 0.1 else "th",
                True,
                joined,
                joined,
            )
        )
    return rows


def generate(
    rng: random.Random, city: CityModel, catalog: Catalog, count: int, first_issue_id: int
) -> Generated:
    now = time.time()
    end = math.floor(now / 86400) * 86400  # today 00:00 UTC: every report is in the past
    created = _created_times(rng, city, count, end)
    rand, gauss, lognorm = rng.random, rng.gauss, rng.lognormvariate
    pick_category = _picker(rng, city.category_weights)
    pick_resolution = _picker(rng, RESOLUTIONS)
    pick_priority = _picker(rng, PRIORITIES)
    by_code = catalog.categories
    centres = city.centres

    # Where and what: a real report to cluster around, a position near it, a category.
    centre_of: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    codes: list[str] = []
    for _ in range(count):
        c = int(rand() * len(centres))
        centre = centres[c]
        sigma = NEAR_SIGMA_M if rand() < NEAR_SHARE else FAR_SIGMA_M
        lat = centre.lat + gauss(0.0, sigma) / METRES_PER_DEGREE
        lon = centre.lon + gauss(0.0, sigma) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        code = centre.category_code
        if code is None or code not in by_code or rand() >= SAME_CATEGORY_AS_CENTRE:
            code = pick_category()
        centre_of.append(c)
        lons.append(round(lon, 7))
        lats.append(round(lat, 7))
        codes.append(code)
    districts, in_city = _districts_of(lons, lats)

    reporters = max(1000, int(count * REPORTERS_PER_ISSUE))
    out = Generated([], [], [], _users(rng, catalog, reporters, end), 0, Counter(), Counter())
    public_ids: set[str] = set()
    event_id = 0
    stamp, utc = dt.datetime.fromtimestamp, dt.UTC
    for i in range(count):
        issue_id = first_issue_id + i
        category = by_code[codes[i]]
        handlers = catalog.district_handlers.get(category.id, set())
        routed = {a for d in districts[i] if (a := catalog.district_agency[d]) in handlers}
        if in_city[i]:
            routed.update(catalog.citywide_handlers.get(category.id, []))
        agencies = sorted(routed)
        # As the app assigns it: the lowest-id district covering the point.
        district = min(
            (x for d in districts[i] if (x := catalog.district_id[d]) is not None), default=None
        )
        out.candidates.extend((issue_id, a) for a in agencies)
        reporter = catalog.first_user_id + int(reporters * rand() ** 2)  # a few report a lot
        t0 = created[i]
        # What the app would have stored after replaying the steps that already happened.
        status, resolution = "open", None
        agency: int | None = None
        acknowledged = started = resolved = closed = reopened = None
        reopen_count = transitions = 0
        updated = t0
        event_id += 1
        out.events.append(
            (
                *(event_id, issue_id, stamp(t0, utc), "reported", reporter, None, None, "open"),
                *(None, None, None, None, True, "citizen"),
            )
        )
        for action, at in _lifecycle(rand, lognorm, category, t0, bool(agencies)):
            if at > now:
                break
            before, to_agency = status, None
            if action == "claimed":
                agency = to_agency = agencies[int(rand() * len(agencies))]
                acknowledged, status = at, "acknowledged"
            elif action == "started":
                started, status = at, "in_progress"
            elif action == "resolved":
                resolution, resolved, status = pick_resolution(), at, "resolved"
            elif action == "closed":
                closed, status = at, "closed"
            else:  # reopened, by the reporter
                resolution, resolved, reopened, status = None, None, at, "acknowledged"
                reopen_count += 1
            assert agency is not None
            by_reporter = action == "reopened"
            actor = reporter if by_reporter else catalog.agent_of[agency]
            updated, transitions, event_id = at, transitions + 1, event_id + 1
            out.events.append(
                (
                    *(event_id, issue_id, stamp(at, utc), action, actor),
                    *(None if by_reporter else agency, before, status, None, to_agency),
                    *(resolution, None, True, "citizen" if by_reporter else "agent"),
                )
            )
        while (public_id := _public_id(rng.getrandbits(5 * PUBLIC_ID_LENGTH))) in public_ids:
            pass
        public_ids.add(public_id)
        out.staging.append(
            (
                *(issue_id, centre_of[i], lons[i], lats[i], category.id, reporter, agency),
                district,
                *(status, resolution, pick_priority(), public_id, t0, updated, acknowledged),
                *(started, resolved, closed, reopened, reopen_count, 1 + transitions),
            )
        )
        out.statuses[status] += 1
        out.categories[category.code] += 1
        out.unrouted += not agencies
    return out


USER_COLUMNS = (
    "id, email, password_hash, device_id_hash, display_name, role, agency_id, language, "
    "is_active, created_at, updated_at"
)
EVENT_COLUMNS = (
    "id, issue_id, created_at, action, actor_id, actor_agency_id, from_status, to_status, "
    "from_agency_id, to_agency_id, resolution, note, is_public, actor_role"
)
STAGING_TABLES = """
CREATE TEMP TABLE bench_text (centre int PRIMARY KEY, title text, description text, address text)
    ON COMMIT DROP;
CREATE TEMP TABLE bench_issue (
    id bigint, centre int, lon float8, lat float8, category_id bigint, reporter_id bigint,
    agency_id bigint, district_id bigint, status text, resolution text, priority text,
    public_id text, created float8, updated float8, acknowledged float8, started float8,
    resolved float8, closed float8, reopened float8, reopen_count int, version int
) ON COMMIT DROP;
"""
# Text is sent once per centre and joined here; times arrive as epoch seconds.
INSERT_ISSUES = """
INSERT INTO issue (id, public_id, category_id, reporter_id, agency_id, district_id, title,
    description, location, address, status, resolution, priority, acknowledged_at, started_at,
    resolved_at, closed_at, reopened_at, reopen_count, acknowledge_due_at, resolve_due_at,
    version, created_at, updated_at)
SELECT s.id, s.public_id, s.category_id, s.reporter_id, s.agency_id, s.district_id,
    coalesce(t.title, c.name_th), coalesce(t.description, ''),
    ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), t.address, s.status, s.resolution, s.priority,
    to_timestamp(s.acknowledged), to_timestamp(s.started),
    to_timestamp(s.resolved), to_timestamp(s.closed), to_timestamp(s.reopened), s.reopen_count,
    to_timestamp(s.created) + make_interval(hours => c.acknowledge_target_hours),
    to_timestamp(s.created) + make_interval(hours => c.resolve_target_hours),
    s.version, to_timestamp(s.created), to_timestamp(s.updated)
FROM bench_issue s JOIN bench_text t ON t.centre = s.centre JOIN category c ON c.id = s.category_id
ORDER BY s.id
"""
# The same question routing asks (`PostgisBackend.covering_agency_ids`), for a sample of issues.
ROUTING_CHECK = """
WITH sample AS (SELECT id, category_id, location FROM issue ORDER BY random() LIMIT %s)
SELECT count(*) FILTER (WHERE expected IS DISTINCT FROM stored) FROM (
    SELECT ARRAY(SELECT a.id FROM agency a JOIN agency_category ac ON ac.agency_id = a.id
                 WHERE ac.category_id = s.category_id AND ST_Covers(a.jurisdiction, s.location)
                 ORDER BY a.id) AS expected,
           ARRAY(SELECT agency_id FROM issue_candidate WHERE issue_id = s.id
                 ORDER BY agency_id) AS stored
    FROM sample s) AS compared
"""


def _copy(
    connection: psycopg.Connection[Any], table: str, columns: str, rows: Iterable[Sequence[Any]]
) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _detach(
    connection: psycopg.Connection[Any], tables: Sequence[str]
) -> list[sql.SQL | sql.Composed]:
    """Drop the tables' secondary indexes, unique and foreign keys; return how to recreate them."""
    names = list(tables)
    indexes = connection.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary AND NOT EXISTS ("
        "  SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
        "  AND c.conrelid = i.indrelid) ORDER BY 1",
        [names],
    ).fetchall()
    constraints = connection.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
        "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u') "
        "ORDER BY contype DESC, 1, 2",  # unique before foreign keys
        [names],
    ).fetchall()
    for table, name, _definition, _kind in reversed(constraints):
        connection.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for name, _definition in indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    restore: list[sql.SQL | sql.Composed] = [sql.SQL(definition) for _name, definition in indexes]
    restore += [
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
            sql.Identifier(table), sql.Identifier(name)
        )
        + sql.SQL(definition)
        for table, name, definition, _kind in constraints
    ]
    return restore


def _load(url: str, city: CityModel, catalog: Catalog, data: Generated) -> None:
    with psycopg.connect(url) as connection:
        connection.execute("SET maintenance_work_mem = '512MB'")
        restore = _detach(connection, BULK_TABLES)
        log(f"loading {len(data.users):,} citizens")
        _copy(connection, "user_account", USER_COLUMNS, data.users)
        log(f"loading {len(data.staging):,} issues")
        connection.execute(STAGING_TABLES)
        _copy(
            connection,
            "bench_text",
            "centre, title, description, address",
            ((i, c.title, c.description, c.address) for i, c in enumerate(city.centres)),
        )
        _copy(
            connection,
            "bench_issue",
            "id, centre, lon, lat, category_id, reporter_id, agency_id, district_id, status, "
            "resolution, "
            "priority, public_id, created, updated, acknowledged, started, resolved, closed, "
            "reopened, reopen_count, version",
            data.staging,
        )
        connection.execute(INSERT_ISSUES)
        log(f"loading {len(data.candidates):,} candidate agencies, {len(data.events):,} events")
        _copy(connection, "issue_candidate", "issue_id, agency_id", data.candidates)
        _copy(connection, "issue_event", EVENT_COLUMNS, data.events)
        for table in ("user_account", "issue", "issue_event"):
            connection.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
        log(f"recreating {len(restore)} indexes and constraints (this checks every row)")
        for statement in restore:
            connection.execute(statement)
        connection.commit()


def seed(
    admin_url: str, name: str, count: int, rng_seed: int, traffy_csv: Path | None
) -> SeedReport:
    started = time.perf_counter()
    url = database_url(admin_url, name)
    log(f"creating database {name}")
    recreate_database(admin_url, name)
    load_catalogue(url)
    rng = random.Random(rng_seed)
    with psycopg.connect(url) as connection:
        catalog = read_catalog(connection)
        row = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM issue").fetchone()
        assert row is not None
        first_issue_id = int(row[0])
    city = load_city(rng, set(catalog.categories), traffy_csv)
    log(f"generating {count:,} issues around {city.source}")
    data = generate(rng, city, catalog, count, first_issue_id)
    _load(url, city, catalog, data)
    log("VACUUM ANALYZE and CHECKPOINT")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")
        row = connection.execute(ROUTING_CHECK, [min(count, 2000)]).fetchone()
        mismatches = int(row[0]) if row else -1
        sizes = {
            table: str(size)
            for table, size in connection.execute(
                "SELECT relname::text, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                "WHERE relname = ANY(%s) ORDER BY relname",
                [list(BULK_TABLES)],
            )
        }
    report = SeedReport(
        issues=len(data.staging),
        users=len(data.users),
        events=len(data.events),
        candidates=len(data.candidates),
        unrouted=data.unrouted,
        statuses=dict(data.statuses.most_common()),
        categories=dict(data.categories.most_common()),
        source=city.source,
        seconds=round(time.perf_counter() - started, 1),
        routing_mismatches=mismatches,
        table_sizes=sizes,
    )
    log(f"seeded in {report.seconds:.0f} s: {sizes}")
    return report
