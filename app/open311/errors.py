"""GeoReport v2 errors: every failure under /open311 answers the spec's list of {code,
description} in the requested format, with the spec's HTTP status (400, 403 or 404), or the
status a client acts on as such (413, 429, and 503 with Retry-After while the database is busy
or out of reach)."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import i18n
from app.errors import (
    DomainError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
    field_message,
)
from app.http.route import ForeignErrorsRoute
from app.open311.serialisers import Format, errors


class UnknownFormat(NotFound):
    pass


_ERROR_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}
# What every GeoReport operation can answer besides success, in the spec's own error format.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {
            "application/json": {"schema": _ERROR_LIST},
            "text/xml": {"schema": {"type": "string", "description": "<errors><error>…"}},
        },
    }
    for status, description in (
        (400, "Invalid arguments (GeoReport errors list)"),
        (403, "Missing or invalid api_key (GeoReport errors list)"),
        (404, "Unknown service, request, token, jurisdiction or format (GeoReport errors list)"),
        (429, "Too many requests: wait the seconds in Retry-After (GeoReport errors list)"),
        (503, "Busy or database unavailable: retry after Retry-After (GeoReport errors list)"),
    )
}


def request_format(request: Request) -> Format:
    """The format the path asks for; XML (the spec's required one) when it names none we know."""
    suffix = str(request.path_params.get("fmt") or request.url.path.rsplit(".", 1)[-1])
    return Format.json if suffix == Format.json else Format.xml


async def parse_format(fmt: str) -> Format:
    if fmt not in Format.__members__:
        raise UnknownFormat(f"Unknown format {fmt!r}: ask for .xml or .json.")
    return Format(fmt)


def _status(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Unauthenticated | Forbidden):
        return 403
    if isinstance(exc, ServiceUnavailable):
        return 503
    # Statuses a client acts on as such: a body too large, a request to retry later.
    return exc.status if exc.status in (413, 429) else 400


def domain_error(request: Request, exc: DomainError) -> Response:
    status = _status(exc)
    lang = i18n.of_request(request)
    problems = [(status, f"{p.location}: {p.message}") for p in exc.errors_in(lang)] or [
        (status, exc.detail_in(lang))
    ]
    response = errors(problems, fmt=request_format(request), status_code=status)
    if "Retry-After" in exc.headers:
        response.headers["Retry-After"] = exc.headers["Retry-After"]
    return response


def validation_error(request: Request, exc: RequestValidationError) -> Response:
    lang = i18n.of_request(request)
    problems = [(400, f"{e['loc'][-1]}: {field_message(e, lang)}") for e in exc.errors()]
    return errors(problems, fmt=request_format(request), status_code=400)


class Open311Route(ForeignErrorsRoute):
    """A unit of work per request, with GeoReport's error format instead of problem+json."""

    domain_error = staticmethod(domain_error)
    validation_error = staticmethod(validation_error)
