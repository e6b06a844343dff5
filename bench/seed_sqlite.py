"""`python -m bench.seed_sqlite --issues N --path FILE`: the bench city on embedded SQLite.

The same schema (the migrations), catalogue (the demo loader) and generated rows (`bench.generate`)
as the PostGIS seed, stored the way the app's column types store them on SQLite (`bench.columns`),
the R*Tree of issue positions included. Loaded as fast as SQLite allows while staying correct: no
journal and no syncing during the load (the file is new: a crash means seeding again), one
transaction, `executemany` per table and chunk, the secondary indexes and the R*Tree's triggers
dropped first and recreated from their own SQL afterwards, then `PRAGMA foreign_key_check` over
every row, `ANALYZE`, and back to WAL as the app runs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from app.db import Database
from app.dbmigrate import upgrade
from app.demo import load_demo_city
from app.spatial.sqlite import RTREE_TABLE
from bench import columns
from bench.data import DEFAULT_TRAFFY_CSV
from bench.generate import Generator, read_catalog
from bench.seed import (
    BULK_TABLES,
    DEMO_PASSWORD,
    SeedReport,
    load_city_for,
    log,
    rebuild_aggregates,
)

LOAD_PRAGMAS = (
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
    "PRAGMA locking_mode = EXCLUSIVE",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -524288",  # 512 MiB: index builds sort in memory
    "PRAGMA foreign_keys = OFF",  # checked once, over every row, after the load
)


def _insert(connection: sqlite3.Connection, rows: columns.Rows) -> None:
    marks = ", ".join("?" * len(rows.columns))
    connection.executemany(
        f"INSERT INTO {rows.table} ({rows.names}) VALUES ({marks})",
        columns.python_rows(rows),
    )


def _detach(connection: sqlite3.Connection) -> list[str]:
    """Drop the bulk tables' secondary indexes and the issue table's triggers (which keep the
    R*Tree, filled directly here); return their SQL, to recreate them afterwards."""
    marks = ", ".join("?" * len(BULK_TABLES))
    found = connection.execute(
        f"SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ({marks}) "
        "AND sql IS NOT NULL AND (type = 'index' OR (type = 'trigger' AND tbl_name = 'issue'))",
        BULK_TABLES,
    ).fetchall()
    for kind, name, _sql in found:
        connection.execute(f'DROP {kind.upper()} "{name}"')
    return [definition for _kind, _name, definition in found]


def seed_sqlite(path: Path, count: int, rng_seed: int, traffy_csv: Path | None) -> SeedReport:
    started = time.perf_counter()
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    database = Database(f"sqlite:///{path}", pool_size=1)
    try:
        upgrade(database.engine)
        with database.session(write=True) as session, session.begin():
            load_demo_city(session, password=DEMO_PASSWORD)
        with database.session(write=False) as session:
            catalog = read_catalog(session)
    finally:
        database.dispose()
    generator = Generator(
        rng_seed, load_city_for(rng_seed, catalog, traffy_csv), catalog, count, time.time()
    )
    phases = {"catalogue": time.perf_counter() - started}
    log(f"generating and loading {count:,} issues into {path} around {generator.city.source}")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in LOAD_PRAGMAS:
            connection.execute(pragma)
        names = dict(connection.execute("SELECT id, name_th FROM category").fetchall())
        texts = [(c.title, c.description, c.address) for c in generator.city.centres]
        restore = _detach(connection)
        connection.execute("BEGIN")
        at = time.perf_counter()
        for users in generator.users():
            _insert(connection, users)
        for chunk in generator.chunks():
            now = time.perf_counter()
            phases["generate"] = phases.get("generate", 0.0) + now - at
            issues = chunk.issues.columns
            text = [texts[k] for k in issues["centre"].values.tolist()]
            rows = columns.Rows(
                "issue", {name: column for name, column in issues.items() if name != "centre"}
            )
            category = list(rows.columns).index("category_id")
            connection.executemany(
                f"INSERT INTO issue ({rows.names}, title, description, address) "
                f"VALUES ({', '.join('?' * len(rows.columns))}, ?, ?, ?)",
                (
                    (*row, title or names[row[category]], description or "", address)
                    for row, (title, description, address) in zip(
                        columns.python_rows(rows), text, strict=True
                    )
                ),
            )
            lon_lat = issues["location"].values
            connection.executemany(
                f"INSERT INTO {RTREE_TABLE} VALUES (?, ?, ?, ?, ?)",
                zip(
                    issues["id"].values.tolist(),
                    *(lon_lat[:, k].tolist() for k in (0, 0, 1, 1)),
                    strict=True,
                ),
            )
            for table in chunk.tables:
                _insert(connection, table)
            at = time.perf_counter()
            phases["insert"] = phases.get("insert", 0.0) + at - now
        connection.execute("COMMIT")
        log(f"recreating {len(restore)} indexes and triggers")
        for statement in restore:
            connection.execute(statement)
        broken = connection.execute("PRAGMA foreign_key_check").fetchmany(5)
        if broken:
            raise RuntimeError(f"seeded rows break foreign keys: {broken}")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA locking_mode = NORMAL")
        connection.execute("PRAGMA journal_mode = WAL")
        phases["indexes and checks"] = time.perf_counter() - at
    finally:
        connection.close()
    at = time.perf_counter()
    rebuild_aggregates(f"sqlite:///{path}")
    phases["rollups"] = time.perf_counter() - at
    report = SeedReport.of(
        generator.totals, generator.city.source, time.perf_counter() - started, phases
    )
    report.table_sizes = {"file": f"{path.stat().st_size / 2**20:,.0f} MB"}
    log(f"seeded in {report.seconds:.0f} s ({report.phases}), {report.table_sizes['file']}")
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_sqlite", description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000, help="issues to seed")
    parser.add_argument("--path", type=Path, required=True, help="database file (replaced)")
    parser.add_argument("--seed", type=int, default=20230512, help="random seed")
    parser.add_argument(
        "--traffy-csv",
        type=Path,
        default=Path(os.environ.get("CIVICLOOP_BENCH_TRAFFY_CSV", DEFAULT_TRAFFY_CSV)),
        help="real report positions to cluster around (read at run time, never copied)",
    )
    args = parser.parse_args(argv)
    if args.issues < 1:
        parser.error("--issues must be positive")
    report = seed_sqlite(args.path, args.issues, args.seed, args.traffy_csv)
    print(json.dumps(dataclasses.asdict(report), indent=2))


if __name__ == "__main__":
    main()
