"""The application factory."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic.json_schema import models_json_schema
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from app import i18n, web
from app.config import Settings, get_settings
from app.db import Database
from app.deps import IdempotentReplay
from app.errors import (
    ANSWERS_ATTRIBUTE,
    STATUS_TITLES,
    DomainError,
    NotFound,
    install_error_handlers,
    problem_responses,
    status_slug,
)
from app.http.hosts import AllowedHostsMiddleware
from app.http.limits import Limiter
from app.http.middleware import RequestHygiene
from app.models import Language
from app.observability import REQUEST_ID_HEADER, install_observability
from app.routers import api_router, channels, health, open311, seeclickfix
from app.schemas.issue import IssueCreate, IssueFeatureCollection
from app.schemas.problem import Problem
from app.schemas.work import FeedEvent
from app.services.cache import TTLCache
from app.services.pagination import CursorCodec
from app.storage import store_for

API_TITLE = "civicloop"
DESCRIPTION = """Crowdsourced civic issue reporting: citizens report geotagged problems, agencies
claim, work and resolve them, and every step is on the issue's public timeline.

Errors are RFC 9457 `application/problem+json`. Creates accept an `Idempotency-Key` header;
issues carry an `ETag` to send back as `If-Match` when changing them. Staff and admins must send
`If-Match` on every change to an issue (edit, transition, assignment, merge): without it the
answer is 428 Precondition Required (`If-Match: *` changes whatever version is current); a
stale one is 412. Citizens' apps may leave it out. Answers of a kilobyte or more come gzipped to
clients that send `Accept-Encoding: gzip`."""
# Below about one packet, gzip saves too little to be worth its header and the CPU.
GZIP_MINIMUM_BYTES = 1024
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)


def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    stored = exc.stored
    return Response(
        stored.body,
        status_code=stored.status_code,
        headers={**stored.headers, "Idempotent-Replayed": "true"},
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.metrics.learn_routes()
    yield
    app.state.photo_workers.shutdown(wait=True, cancel_futures=True)


def _problem_types() -> dict[str, dict[Language, str]]:
    """Each problem type's title in both languages: an answer is titled in its reader's."""

    def titles(key: str, english: str) -> dict[Language, str]:
        return {lang: i18n.t(key, lang) if i18n.has(key) else english for lang in Language}

    by_status = {
        status_slug(status): titles(f"http.{status}", title)
        for status, title in STATUS_TITLES.items()
    }
    return by_status | {
        cls.slug: titles(f"problem.{cls.slug}", cls.title) for cls in _subclasses(DomainError)
    }


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


# Any JSON body can be malformed (400), too large (413), of another media type (415) or invalid.
BODY_PROBLEMS = (400, 413, 415, 422)


def _dependency_problems(dependant: Dependant) -> set[int]:
    """Statuses the dependencies of an operation declared with `errors.answers`, transitively."""
    found: set[int] = set(getattr(dependant.call, ANSWERS_ATTRIBUTE, ()))
    for sub in dependant.dependencies:
        found |= _dependency_problems(sub)
    return found


def _operation_problems(route: RouteContext) -> set[int]:
    found = _dependency_problems(route.dependant)
    if route.body_field is not None:
        found.update(BODY_PROBLEMS)
    if route.dependant.path_params or route.dependant.query_params:
        found.add(422)
    return found


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, plus schemas used only in `responses=`, and every problem+json
    answer an operation's body, parameters and dependencies (`errors.answers`) can give."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    _, extra = models_json_schema(
        [
            (Problem, "serialization"),
            (IssueFeatureCollection, "serialization"),
            (IssueCreate, "validation"),
            (FeedEvent, "serialization"),
        ],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(extra.get("$defs", {}))
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "The request is not valid", "content": problem}
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        declared = problem_responses(*_operation_problems(route))
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            responses = {**{str(k): v for k, v in declared.items()}, **operation["responses"]}
            operation["responses"] = dict(sorted(responses.items()))
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


def attach_state(app: FastAPI) -> None:
    """What the app keeps between requests (caches, stores, worker threads), built afresh.

    `create_app` calls it once. The tests build each app once and call it again before every
    test, so no test sees another's cached answers or counters: state of that kind goes here.
    """
    settings: Settings = app.state.settings
    app.state.cursors = CursorCodec(settings.secret_key)
    app.state.stats_cache = TTLCache(ttl=settings.stats_cache_seconds)
    # Map tiles and hexagons: many small answers, kept apart so they do not push statistics out.
    app.state.map_cache = TTLCache(ttl=settings.stats_cache_seconds, size=4096)
    app.state.photo_store = store_for(settings)
    app.state.limiter = Limiter(settings)
    # Photos are decoded on a few threads of their own: that bounds the memory (each 12 MP photo
    # takes ~150 MB while processed) and keeps it in those threads' malloc arenas, instead of
    # growing one arena per thread of the shared pool that runs every other request.
    app.state.photo_workers = ThreadPoolExecutor(
        max_workers=settings.photo_workers, thread_name_prefix="civicloop-photos"
    )


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title=API_TITLE,
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,  # served below from packaged assets: no CDN, works offline
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.database = database or Database.from_settings(settings)
    attach_state(app)
    install_error_handlers(app, web.ERROR_PAGES)
    # Text answers go gzipped to clients that accept it (a map's 200-issue GeoJSON page: 190 KB
    # plain, a tenth of that gzipped). Starlette leaves alone event streams (the feed would wait
    # for a buffer to fill), images, and bodies already encoded (the static assets, compressed
    # once at start-up). Inside the request layer (app.http.middleware), which answers a HEAD as
    # its GET, so a HEAD names the GET's encoding and length.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
    app.add_exception_handler(IdempotentReplay, _replay)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Location", "Idempotent-Replayed", REQUEST_ID_HEADER],
        )
    if (hosts := settings.host_allow_list) is not None:
        app.add_middleware(AllowedHostsMiddleware, hosts=hosts)
    # Outermost (added last): every answer, a refused host's too, has its request id, headers
    # and metrics.
    app.add_middleware(RequestHygiene, settings=settings, metrics=install_observability(app))
    app.include_router(health.router)
    app.include_router(api_router)
    app.include_router(open311.router)
    app.include_router(channels.router)
    app.include_router(seeclickfix.router)
    app.include_router(web.router)

    problem_types = _problem_types()

    @app.get("/problems/{slug}", include_in_schema=False)
    def problem_type_page(slug: str) -> HTMLResponse:
        # RFC 9457: a problem type URI should resolve to documentation for humans.
        if slug not in problem_types:
            raise NotFound(f"No problem type {slug!r}.")
        english, thai = (
            html.escape(problem_types[slug][lang]) for lang in (Language.en, Language.th)
        )
        return HTMLResponse(
            f'<!doctype html><html lang="en"><title>{english}</title><h1>{english}</h1>'
            f'<p lang="th">{thai}</p></html>'
        )

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{API_TITLE} API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
        # The one page that runs code: our own packaged assets and its inline start-up script.
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
