"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.db import Database
from app.dbmigrate import pending_migrations
from app.errors import ServiceUnavailable, problem_responses

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated",
    responses=problem_responses(503),
)
async def readyz(request: Request) -> dict[str, str]:
    database: Database = request.app.state.database
    try:
        pending = await run_in_threadpool(pending_migrations, database.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        raise ServiceUnavailable(f"The database is unreachable ({type(exc).__name__}).") from exc
    if pending:
        raise ServiceUnavailable(
            f"{len(pending)} database migration(s) pending: run `civicloop migrate`.",
            pending=pending,
        )
    return {"status": "ok", "database": database.engine.dialect.name}
