"""`python -m bench.stats --issues N`: statistics endpoints against the computation they replaced.

Seeds (or reuses) a PostGIS bench database, makes sure the rollups hold what the issue table does
(the seeder COPYs past the ORM: a rebuild if they differ, timed), starts `civicloop serve` with
the statistics cache off, then times each statistic three ways in one run:
- raw: the same statistic counted from the issue table, as before the rollups (the stats service
  with `use_rollups=False`, in-process: its SQL and a little Python, no HTTP);
- rollups: the service as the API runs it, in-process;
- API: the HTTP request to `civicloop serve`.
bench/README.md ("Statistics from rollups") explains it and records the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.db import Database
from app.models import Category, District, Issue, IssueDayRollup
from app.services import kpis, rollups, stats
from app.services.issues import IssueFilter, publicly_visible
from app.services.kpis import KpiFilter
from app.services.stats import Dimension, Event, Period, Scope, Stage
from bench.data import DEFAULT_TRAFFY_CSV
from bench.measure import api_server, percentile
from bench.run import DATABASE_PREFIX, DEFAULT_ADMIN_URL, RESULTS_DIR, _store_seed, _stored_seed
from bench.seed import check_loopback, database_url, log, seed

P99_TARGET_MS = 50.0
Compute = Callable[[Scope], Any]


@dataclass(frozen=True)
class Statistic:
    name: str
    path: str
    params: dict[str, str]
    issue_filter: IssueFilter
    compute: Compute


def statistics(category: str, district: str, zone: Any) -> list[Statistic]:
    """Each rollup-backed statistic unfiltered, and a few with the filters dashboards use."""
    plain = IssueFilter()
    found = [
        *(
            Statistic(f"counts/{by}", f"/stats/counts/{by}", {}, plain, _counts(by))
            for by in (Dimension.status, Dimension.category, Dimension.agency, Dimension.district)
        ),
        *(
            Statistic(
                f"series/{event}?{period}",
                f"/stats/series/{event}",
                {"period": period.value},
                plain,
                _series(event, period, zone),
            )
            for event, period in (
                (Event.reported, Period.day),
                (Event.reported, Period.month),
                (Event.resolved, Period.week),
            )
        ),
        *(Statistic(f"timings/{s}", f"/stats/timings/{s}", {}, plain, _timings(s)) for s in Stage),
    ]
    by_category = IssueFilter(category_codes=(category,))
    in_district = IssueFilter(district_codes=(district,))
    return [
        *found,
        Statistic(
            "counts/agency?category",
            "/stats/counts/agency",
            {"category": category},
            by_category,
            _counts(Dimension.agency),
        ),
        Statistic(
            "series/reported?district",
            "/stats/series/reported",
            {"district": district, "period": "week"},
            in_district,
            _series(Event.reported, Period.week, zone),
        ),
        Statistic(
            "timings/resolve?district",
            "/stats/timings/resolve",
            {"district": district},
            in_district,
            _timings(Stage.resolve),
        ),
    ]


def _counts(by: Dimension) -> Compute:
    return lambda scope: stats.counts(scope, by)


def _series(event: Event, period: Period, zone: Any) -> Compute:
    return lambda scope: stats.series(scope, event, period, zone)


def _timings(stage: Stage) -> Compute:
    return lambda scope: stats.timings(scope, stage)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stats", description=__doc__)
    parser.add_argument("--issues", type=int, default=100_000, help="issues to seed")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per statistic")
    parser.add_argument("--raw-requests", type=int, default=5, help="timed raw computations")
    parser.add_argument("--seed", type=int, default=20230512, help="random seed")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CIVICLOOP_BENCH_POSTGRES_URL")
        or os.environ.get("CIVICLOOP_TEST_POSTGRES_URL")
        or DEFAULT_ADMIN_URL,
    )
    parser.add_argument("--database", default=f"{DATABASE_PREFIX}_stats", help="dropped first")
    parser.add_argument("--traffy-csv", type=Path, default=DEFAULT_TRAFFY_CSV)
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded alike")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if min(args.issues, args.requests, args.raw_requests) < 1:
        parser.error("--issues, --requests and --raw-requests must be positive")
    if not args.database.startswith(DATABASE_PREFIX):
        parser.error(f"--database must start with {DATABASE_PREFIX!r}: it is dropped first")
    return args


def ensure_rollups(database: Database) -> float | None:
    """Rebuild the rollups if they do not count the published issues; the seconds it took."""
    with database.session(write=True) as session:
        published = session.scalar(select(func.count()).where(publicly_visible()))
        rolled = session.scalar(
            select(func.coalesce(func.sum(IssueDayRollup.reported), 0)).where(
                IssueDayRollup.grain == 0
            )
        )
        if published == rolled:
            return None
        log(f"rollups count {rolled:,} of {published:,} published issues: rebuilding")
        started = time.perf_counter()
        rollups.rebuild(session)
        session.commit()
        return time.perf_counter() - started


def _milliseconds(run: Callable[[], Any], times: int) -> list[float]:
    run()  # warm-up, not counted
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        taken.append((time.perf_counter() - started) * 1000)
    return sorted(taken)


def _in_process(database: Database, statistic: Statistic, *, use_rollups: bool) -> Any:
    with database.session(write=False) as session:
        scope = Scope(session, database.spatial, statistic.issue_filter, use_rollups=use_rollups)
        scope.prepare()
        return statistic.compute(scope)


def _summary(taken: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(taken, 50), 2),
        "p99_ms": round(percentile(taken, 99), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    check_loopback(args.postgres_url)
    url = database_url(args.postgres_url, args.database)
    report = _stored_seed(args.postgres_url, args.database) if args.reuse else None
    if report is not None and report.issues == args.issues:
        log(f"reusing {args.database}: {report.issues:,} issues seeded earlier")
    else:
        report = seed(args.postgres_url, args.database, args.issues, args.seed, args.traffy_csv)
        _store_seed(url, args.database, report)
    database = Database(url)
    rebuild_s = ensure_rollups(database)
    with database.session(write=False) as session:
        zone = rollups.zone(session)
        issues = session.scalar(select(func.count()).select_from(Issue)) or 0
        category = session.scalar(
            select(Category.code)
            .join(Issue, Issue.category_id == Category.id)
            .group_by(Category.code)
            .order_by(func.count().desc())
            .limit(1)
        )
        district = session.scalar(
            select(District.code)
            .join(Issue, Issue.district_id == District.id)
            .group_by(District.code)
            .order_by(func.count().desc())
            .limit(1)
        )
    assert category is not None
    assert district is not None
    chosen = statistics(category, district, zone)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    server_log = args.results_dir / f"server-stats-{args.issues}-{stamp}.log"
    # Every request computed afresh: the cache would only measure a dict look-up.
    os.environ["CIVICLOOP_STATS_CACHE_SECONDS"] = "0"
    rows: list[dict[str, Any]] = []
    with (
        api_server(url, 1, server_log) as base_url,
        httpx.Client(base_url=f"{base_url}/api/v1", timeout=120, trust_env=False) as client,
    ):
        for s in chosen:
            log(f"statistic {s.name}")
            raw_answer = _in_process(database, s, use_rollups=False)
            if raw_answer != _in_process(database, s, use_rollups=True):
                raise SystemExit(f"{s.name}: the rollups' figures differ from the issue table's")

            def request(s: Statistic = s) -> None:
                client.get(s.path, params=s.params).raise_for_status()

            raw = _milliseconds(
                partial(_in_process, database, s, use_rollups=False), args.raw_requests
            )
            rolled = _milliseconds(
                partial(_in_process, database, s, use_rollups=True), args.requests
            )
            api = _milliseconds(request, args.requests)
            rows.append(
                {
                    "statistic": s.name,
                    "raw": _summary(raw),
                    "rollups": _summary(rolled),
                    "api": _summary(api),
                    "raw_over_api": round(percentile(raw, 50) / percentile(api, 50), 1),
                }
            )
        kpi_api = _milliseconds(lambda: client.get("/kpis").raise_for_status(), args.raw_requests)
    with database.session(write=False) as session:
        kpi_raw = _milliseconds(lambda: kpis.report(session, f=KpiFilter(), by=None), 3)
    database.dispose()

    worst = max(r["api"]["p99_ms"] for r in rows)
    results = {
        "issues": issues,
        "zone": zone.key,
        "rollup_rebuild_s": None if rebuild_s is None else round(rebuild_s, 1),
        "statistics": rows,
        "kpis_overall": {"api": _summary(kpi_api), "in_process": _summary(kpi_raw)},
        "target": {"what": f"API p99 <= {P99_TARGET_MS:g} ms", "worst_ms": worst},
    }
    out = args.results_dir / f"stats-{args.issues}-{stamp}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nstatistics of {issues:,} issues ({zone.key}); cache off")
    if rebuild_s is not None:
        print(f"rollups rebuilt in {rebuild_s:.1f} s")
    print(
        f"{'statistic':<28}{'raw p50':>9}{'roll p50':>10}{'API p50':>9}{'API p99':>9}{'raw/API':>9}"
    )
    for r in rows:
        print(
            f"{r['statistic']:<28}{r['raw']['p50_ms']:>9.1f}{r['rollups']['p50_ms']:>10.1f}"
            f"{r['api']['p50_ms']:>9.1f}{r['api']['p99_ms']:>9.1f}{r['raw_over_api']:>8.1f}x"
        )
    print(
        f"KPIs overall (not rolled up yet): API p50 {percentile(kpi_api, 50):.1f} ms, "
        f"in-process p50 {percentile(kpi_raw, 50):.1f} ms"
    )
    verdict = "met" if worst <= P99_TARGET_MS else "MISSED"
    print(f"target: API p99 <= {P99_TARGET_MS:g} ms: worst {worst:.1f} ms -> {verdict}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
