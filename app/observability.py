"""Structured JSON logs that carry the request id, and Prometheus metrics at /metrics."""

from __future__ import annotations

import hmac
import logging.config
import os
import uuid
from typing import Any

from asgi_correlation_id.context import correlation_id
from fastapi import Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pythonjsonlogger.core import RESERVED_ATTRS
from starlette.responses import Response
from starlette.routing import BaseRoute

from app import i18n
from app.config import Settings
from app.errors import NotFound, Unauthenticated, answers

REQUEST_ID_HEADER = "X-Request-ID"
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
UNROUTED = "none"
# Scrapes and probes are not traffic.
UNMEASURED = frozenset({"/metrics", "/healthz", "/readyz"})
# Answers are meant to take tens of milliseconds: the buckets resolve that, and what goes wrong.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

log = logging.getLogger(__name__)


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


def accept_request_id(header: str | None) -> str:
    """The caller's X-Request-ID when it is a UUID (a proxy's, or the client's own), else a new
    one: put where every log line of this request finds it."""
    if header:
        try:
            uuid.UUID(header)
        except ValueError:
            log.warning("request id %r is not a UUID: a new one replaces it", header[:64])
        else:
            correlation_id.set(header)
            return header
    fresh = uuid.uuid4().hex
    correlation_id.set(fresh)
    return fresh


class RequestMetrics:
    """Requests counted and timed by method, route template and status class.

    The template is that of the route routing chose (`scope["route"]`), looked up in a table of
    the app's routes built on first use (a route object names one template here: FastAPI builds
    one per inclusion): never matched again. A request no route took (404, a body refused before
    routing) counts under "none".
    """

    def __init__(self, app: FastAPI, registry: CollectorRegistry) -> None:
        self.app = app
        self.registry = registry
        # By identity: Starlette's routes compare equal by path and endpoint, and are unhashable.
        self.templates: dict[int, str] = {}
        self.requests = Counter(
            "http_requests_total",
            "Requests answered, by method, route template and status class.",
            ("method", "status", "handler"),
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from the request's arrival to its answer's end, by method and route template.",
            ("method", "handler"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )

    def observe(self, method: str, route: BaseRoute | None, status: int, seconds: float) -> None:
        handler = self.template(route)
        if handler in UNMEASURED:
            return
        self.requests.labels(method, f"{status // 100}xx", handler).inc()
        self.duration.labels(method, handler).observe(seconds)

    def template(self, route: BaseRoute | None) -> str:
        if route is None:
            return UNROUTED
        template = self.templates.get(id(route))
        if template is None:
            self.learn_routes()
            template = self.templates.setdefault(id(route), UNROUTED)
        return template

    def learn_routes(self) -> None:
        """The table of templates. At start-up this also has FastAPI resolve its routes, which
        it would otherwise do while the first request waits (half a second)."""
        self.templates = {
            id(context.original_route): context.path_format
            for context in iter_route_contexts(self.app.routes)
            if context.path_format
        }

    def exposition(self) -> bytes:
        """The text format; with several workers, every worker's counts added up."""
        if MULTIPROCESS in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


def install_observability(app: FastAPI) -> RequestMetrics:
    """Request metrics at /metrics, for the bearer of CIVICLOOP_METRICS_TOKEN only; the metrics
    app.http.middleware records into.

    With several worker processes, `civicloop serve` sets PROMETHEUS_MULTIPROC_DIR so that
    /metrics adds up every worker's counts (prometheus_client's multiprocess mode).
    """
    # A registry per app, so several apps in one process (the tests) do not collide.
    metrics = app.state.metrics = RequestMetrics(app, CollectorRegistry())

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(require_metrics_token)])
    async def scrape() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics
