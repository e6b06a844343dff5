"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.db import Database
from app.dbmigrate import pending_migrations

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated",
    responses={503: {"description": "Not ready: the body says why."}},
)
async def readyz(request: Request) -> JSONResponse:
    database: Database = request.app.state.database
    try:
        pending = await run_in_threadpool(pending_migrations, database.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "reason": f"database unreachable: {type(exc).__name__}"}, 503
        )
    if pending:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": f"{len(pending)} migration(s) pending: run `civicloop migrate`",
            },
            503,
        )
    return JSONResponse({"status": "ok", "database": database.engine.dialect.name})
