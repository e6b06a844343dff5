"""Seeding: a dedicated PostGIS database with the demo city and N issues, bulk-loaded with COPY.

The schema comes from the migrations and the catalogue from `app.demo.load_demo_city`, exactly as
in production. Issues and everything that hangs off them (`bench.generate`) then stream in, chunk
by chunk, as binary COPY built with numpy (`bench.columns`), with the secondary indexes and the
unique and foreign-key constraints of those tables dropped during the load and recreated from
their own definitions afterwards, so every row is checked against every constraint once, in bulk.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from app.db import Database
from app.dbmigrate import upgrade
from app.demo import load_demo_city
from app.services import maps, rollups
from bench import columns
from bench.data import CityModel, load_city
from bench.generate import CHUNK, Catalog, Generator, Totals, read_catalog

LOOPBACK_HOSTS = frozenset({None, "127.0.0.1", "localhost", "::1"})
DEMO_PASSWORD = "civicloop-bench"
# Tables loaded in bulk: their secondary indexes and constraints wait until the data is in.
BULK_TABLES = (
    "user_account",
    "issue",
    "issue_candidate",
    "issue_flag",
    "issue_event",
    "photo",
    "photo_file",
    "support",
    "follow",
)
SEQUENCED = ("user_account", "issue", "issue_event", "photo", "support", "follow")


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
    rows: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls, totals: Totals, source: str, seconds: float, phases: dict[str, float]
    ) -> SeedReport:
        return cls(
            issues=totals.issues,
            users=totals.rows["user_account"],
            events=totals.rows["issue_event"],
            candidates=totals.rows["issue_candidate"],
            unrouted=totals.unrouted,
            statuses=dict(totals.statuses.most_common()),
            categories=dict(totals.categories.most_common()),
            source=source,
            seconds=round(seconds, 1),
            rows=dict(sorted(totals.rows.items())),
            phases={k: round(v, 1) for k, v in phases.items()},
        )


def recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(conninfo(admin_url), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(database_url(admin_url, name), autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def rebuild_aggregates(url: str) -> None:
    """What the app keeps up to date from its own writes (the statistics' rollups, the map's
    cell counts), rebuilt from the loaded rows by the app's own functions, as after any write
    that bypasses the ORM."""
    database = Database(url, pool_size=1)
    try:
        with database.session(write=True) as session, session.begin():
            rollups.rebuild(session)
            maps.rebuild_cell_counts(session)
    finally:
        database.dispose()


def load_catalogue(url: str) -> Catalog:
    """Schema by the migrations, categories, agencies and staff by the demo loader; what the
    generator needs to know of them, read back through the app's own models and rules."""
    database = Database(url, pool_size=1)
    try:
        upgrade(database.engine)
        with database.session(write=True) as session, session.begin():
            load_demo_city(session, password=DEMO_PASSWORD)
        with database.session(write=False) as session:
            return read_catalog(session)
    finally:
        database.dispose()


# Issues arrive without their text: each row names the real report (`centre`) whose title,
# description and address it takes, sent once per report and joined here.
STAGING_TABLES = """
CREATE TEMP TABLE bench_text (centre int PRIMARY KEY, title text, description text, address text);
CREATE TEMP TABLE bench_issue AS SELECT 0::int AS centre, {columns} FROM issue WITH NO DATA;
"""
INSERT_ISSUES = """
INSERT INTO issue ({columns}, title, description, address)
SELECT {staged}, coalesce(t.title, c.name_th), coalesce(t.description, ''), t.address
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


# One table's rows of a chunk, ready to send: (table, its column list, binary COPY data).
Encoded = tuple[str, str, bytes]
AHEAD = 2  # chunks generated ahead of the database: memory for two, and both cores busy


def _encoded(generator: Generator) -> Iterator[list[Encoded]]:
    for chunk in generator.chunks():
        yield [
            (rows.table, rows.names, columns.copy_binary(rows))
            for rows in (chunk.issues, *chunk.tables)
            if len(rows)
        ]


def _ahead(items: Iterator[list[Encoded]]) -> Iterator[list[Encoded]]:
    """The items, made by a thread of their own while the caller sends the previous ones (numpy
    releases the GIL for its array work; PostgreSQL parses on the other core)."""
    queue: Queue[list[Encoded] | BaseException | None] = Queue(maxsize=AHEAD)

    def produce() -> None:
        try:
            for item in items:
                queue.put(item)
        except BaseException as error:  # handed to the consumer, raised there
            queue.put(error)
        else:
            queue.put(None)

    thread = threading.Thread(target=produce, name="bench-generate", daemon=True)
    thread.start()
    while (item := queue.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()


def _copy(connection: psycopg.Connection[Any], table: str, names: str, data: bytes) -> None:
    statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(data)


def _stage(connection: psycopg.Connection[Any], generator: Generator, names: str) -> sql.Composed:
    """The staging tables for one chunk of issues and their text; the INSERT that joins them."""
    issue_columns = [n for n in names.split(", ") if n != "centre"]
    listed = sql.SQL(", ").join(map(sql.Identifier, issue_columns))
    connection.execute(sql.SQL(STAGING_TABLES).format(columns=listed))
    with connection.cursor() as cursor, cursor.copy("COPY bench_text FROM STDIN") as copy:
        for i, centre in enumerate(generator.city.centres):
            copy.write_row((i, centre.title, centre.description, centre.address))
    return sql.SQL(INSERT_ISSUES).format(
        columns=listed, staged=sql.SQL(", ").join(sql.Identifier("s", n) for n in issue_columns)
    )


def _load(
    connection: psycopg.Connection[Any], generator: Generator, phases: dict[str, float]
) -> None:
    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - since
        return now

    at = time.perf_counter()
    log(f"loading {generator.reporters:,} citizens")
    for users in generator.users():
        _copy(connection, users.table, users.names, columns.copy_binary(users))
    at = lap("citizens", at)
    insert: sql.Composed | None = None
    done = 0
    for batch in _ahead(_encoded(generator)):
        at = lap("waiting for the generator", at)
        for table, names, data in batch:
            if table == "issue":
                insert = insert or _stage(connection, generator, names)
                _copy(connection, "bench_issue", names, data)
                connection.execute(insert)
                connection.execute("TRUNCATE bench_issue")
                done += 1
            else:
                _copy(connection, table, names, data)
            at = lap(f"copy {table}", at)
        if done % 10 == 0 or done * CHUNK >= generator.count:
            log(f"{min(done * CHUNK, generator.count):,} issues loaded")
    for table in SEQUENCED:
        connection.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                sql.Literal(table), sql.Identifier(table)
            )
        )


def seed(
    admin_url: str, name: str, count: int, rng_seed: int, traffy_csv: Path | None
) -> SeedReport:
    started = time.perf_counter()
    url = database_url(admin_url, name)
    log(f"creating database {name}")
    recreate_database(admin_url, name)
    catalog = load_catalogue(url)
    generator = Generator(
        rng_seed, load_city_for(rng_seed, catalog, traffy_csv), catalog, count, time.time()
    )
    phases: dict[str, float] = {"catalogue": time.perf_counter() - started}
    log(f"generating and loading {count:,} issues around {generator.city.source}")
    with psycopg.connect(url) as connection:
        connection.execute("SET maintenance_work_mem = '1GB'")
        connection.execute("SET synchronous_commit = off")
        restore = _detach(connection, BULK_TABLES)
        _load(connection, generator, phases)
        at = time.perf_counter()
        log(f"recreating {len(restore)} indexes and constraints (this checks every row)")
        for statement in restore:
            connection.execute(statement)
        connection.commit()
        phases["indexes and constraints"] = time.perf_counter() - at
    at = time.perf_counter()
    log("rebuilding the rollups")
    rebuild_aggregates(url)
    phases["rollups"] = time.perf_counter() - at
    at = time.perf_counter()
    log("VACUUM ANALYZE and CHECKPOINT")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")
        phases["vacuum"] = time.perf_counter() - at
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
    report = SeedReport.of(
        generator.totals, generator.city.source, time.perf_counter() - started, phases
    )
    report.routing_mismatches = mismatches
    report.table_sizes = sizes
    log(f"seeded in {report.seconds:.0f} s ({report.phases}): {sizes}")
    return report


def load_city_for(rng_seed: int, catalog: Catalog, traffy_csv: Path | None) -> CityModel:
    """The real reports the city is modelled on (the fallback's random points from the seed)."""
    return load_city(random.Random(rng_seed), set(catalog.categories), traffy_csv)
