"""`civicloop import csv FILE --format nyc311|traffy` and `civicloop import open311 URL`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.importers.records import Tally
from app.importers.run import Progress

SINCE_DEFAULT_DAYS = 365


def _date(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date such as 2024-01-31") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "import", help="import existing reports with their history (CSV exports, Open311)"
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    p = kinds.add_parser("csv", help="a CSV export: NYC 311, Traffy Fondue, or any mapped layout")
    p.add_argument("file", type=Path)
    layout = p.add_mutually_exclusive_group(required=True)
    layout.add_argument("--format", choices=("nyc311", "traffy"), help="a built-in layout")
    layout.add_argument("--mapping", type=Path, help="a layout file (.json or .toml)")
    p.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    p.add_argument(
        "--fallback-category",
        help="category code for rows that name none (default: the city's general category)",
    )
    p.set_defaults(handler=import_csv)
    p = kinds.add_parser("open311", help="any GeoReport v2 endpoint, e.g. https://city/open311/v2")
    p.add_argument("url")
    p.add_argument("--jurisdiction-id", help="sent with every request, when the server needs it")
    p.add_argument(
        "--since",
        type=_date,
        help=f"first run: requests reported since then (default {SINCE_DEFAULT_DAYS} days ago)",
    )
    p.add_argument("--page-size", type=int, default=200, help="requests per page and batch")
    p.add_argument("--fallback-category", help="category code for requests that name no service")
    p.set_defaults(handler=import_open311)


@contextmanager
def _progress_bar(label: str) -> Iterator[Progress]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(label, total=None)

    def advance(done: int, total: int | None) -> None:
        if total is not None:
            bar.update(task, total=total)
        bar.advance(task, done)

    with bar:
        yield advance


def _report(tally: Tally) -> int:
    for row in tally.rejected:
        where = f"line {row.line}" + (f" (id {row.external_id})" if row.external_id else "")
        print(f"rejected {where}: {row.reason}", file=sys.stderr)
    reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(tally.reasons().items()))
    print(
        f"imported {tally.imported}, updated {tally.updated}, unchanged {tally.unchanged}, "
        f"rejected {len(tally.rejected)}" + (f" ({reasons})" if reasons else "")
    )
    if tally.categories_created:
        print(
            f"created {len(tally.categories_created)} inactive categories for source names: "
            + ", ".join(tally.categories_created)
        )
    return 0


def _database() -> Any:
    from app.config import get_settings
    from app.db import Database

    return Database.from_settings(get_settings())


def import_csv(args: argparse.Namespace) -> int:
    from app.importers import run, tabular

    try:
        layout = tabular.LAYOUTS[args.format] if args.format else tabular.load_layout(args.mapping)
        database = _database()
        try:
            with _progress_bar(f"importing {args.file.name}") as progress:
                tally = run.import_csv(
                    database,
                    path=args.file,
                    layout=layout,
                    fallback_category=args.fallback_category,
                    batch_size=args.batch_size,
                    progress=progress,
                )
        finally:
            database.dispose()
    except (tabular.LayoutError, run.CannotImport, OSError) as problem:
        print(f"civicloop import: {problem}", file=sys.stderr)
        return 2
    return _report(tally)


def import_open311(args: argparse.Namespace) -> int:
    import httpx

    from app.importers import run
    from app.importers.open311 import Open311Client, SourceError

    since = args.since or dt.datetime.now(dt.UTC) - dt.timedelta(days=SINCE_DEFAULT_DAYS)
    database = _database()
    try:
        with (
            httpx.Client(timeout=60, headers={"User-Agent": "civicloop-import"}) as http,
            _progress_bar(f"importing {args.url}") as progress,
        ):
            client = Open311Client(http, args.url, jurisdiction_id=args.jurisdiction_id)
            tally = run.import_open311(
                database,
                client=client,
                since=since,
                fallback_category=args.fallback_category,
                page_size=args.page_size,
                progress=progress,
            )
    except (SourceError, run.CannotImport) as problem:
        print(f"civicloop import: {problem}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    return _report(tally)
