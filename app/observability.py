"""Structured JSON logs that carry the request id, and Prometheus metrics at /metrics."""

from __future__ import annotations

import hmac
import logging.config
import os
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Depends, FastAPI, Request
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from pythonjsonlogger.core import RESERVED_ATTRS

from app import i18n
from app.config import Settings
from app.errors import NotFound, Unauthenticated, answers

REQUEST_ID_HEADER = "X-Request-ID"


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """One dictConfig for the app, uvicorn's own loggers and the access log.

    Every record gets the request id (empty outside a request), so a line in the access log and
    the errors logged while serving it can be joined.
    """
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "correlation_id": "request_id",
            },
            # uvicorn adds an ANSI-coloured copy of some messages: not for machines.
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
        }
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "asgi_correlation_id.CorrelationIdFilter", "default_value": ""}
        },
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            # uvicorn installs its own handlers unless told otherwise: route them to ours.
            name: {"handlers": [], "level": level.upper(), "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        }
        # /readyz asks Alembic for pending migrations on every probe: keep its chatter out.
        | {"alembic": {"level": "WARNING"}},
    }


def configure_logging(level: str, log_format: str) -> None:
    logging.config.dictConfig(logging_config(level, log_format))


@answers(401, 404)
async def require_metrics_token(request: Request) -> None:
    """/metrics is for the operator's scraper only: the metrics name routes, volumes and error
    rates. Without a configured token the page does not exist."""
    settings: Settings = request.app.state.settings
    token = settings.metrics_token.get_secret_value()
    if not token:
        raise NotFound(i18n.text("error.metrics.off", path=request.url.path))
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # compare_digest: the time taken must not tell how much of a guess was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise Unauthenticated(i18n.text("error.metrics.token"))


def install_observability(app: FastAPI) -> None:
    """Request ids on every request and response; request metrics at /metrics, for the bearer of
    CIVICLOOP_METRICS_TOKEN only.

    With several worker processes, `civicloop serve` sets PROMETHEUS_MULTIPROC_DIR so that
    /metrics adds up every worker's counts (prometheus_client's multiprocess mode).
    """
    app.add_middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER)
    # A registry per app, so several apps in one process (the tests) do not collide.
    registry = None if "PROMETHEUS_MULTIPROC_DIR" in os.environ else CollectorRegistry()
    Instrumentator(
        excluded_handlers=["/metrics", "/healthz", "/readyz"], registry=registry
    ).instrument(app).expose(
        app, include_in_schema=False, dependencies=[Depends(require_metrics_token)]
    )
