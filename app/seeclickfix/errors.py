"""SeeClickFix errors: problem+json (RFC 9457) whose `errors` member is SeeClickFix's object of
parameter -> list of messages, so that SeeClickFix clients and problem+json readers both
understand it. Too many requests adds SeeClickFix's `message` and `documentation_url`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import i18n
from app.errors import (
    DATABASE_FAILURES,
    PROBLEM_MEDIA_TYPE,
    DomainError,
    ValidationFailed,
    field_message,
    problem_type,
    unavailable,
)
from app.http.links import public_url
from app.http.route import UnitOfWorkRoute

DOCUMENTATION = "/docs#/seeclickfix"

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                }
            }
        },
    }
    for status, description in (
        (401, "A bearer token that is not valid (this surface needs none)"),
        (404, "No such issue, place or request type"),
        (422, "Invalid parameters (control characters too): errors names each with its messages"),
        (429, "Too many requests: wait the seconds in Retry-After"),
        (503, "Busy or database unavailable: retry after Retry-After"),
    )
}


def _render(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: dict[str, list[str]],
    headers: dict[str, str],
) -> Response:
    lang = i18n.of_request(request)
    for key in (f"problem.{slug}", f"http.{status}"):
        if i18n.has(key):
            title = i18n.t(key, lang)
            break
    body: dict[str, Any] = {
        "type": problem_type(request, slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "errors": errors,
    }
    if status == 429:
        body |= {
            "message": "Too Many Requests",
            "documentation_url": public_url(request, DOCUMENTATION),
        }
    response = Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )
    i18n.say_language(response, lang)
    return response


def domain_error(request: Request, exc: DomainError) -> Response:
    lang = i18n.of_request(request)
    errors: dict[str, list[str]] = {}
    for problem in exc.errors_in(lang):
        errors.setdefault(problem.location, []).append(problem.message)
    return _render(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail_in(lang),
        errors=errors,
        headers=exc.headers,
    )


def validation_error(request: Request, exc: RequestValidationError) -> Response:
    lang = i18n.of_request(request)
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        errors.setdefault(str(error["loc"][-1]), []).append(field_message(error, lang))
    detail = "; ".join(f"{name}: {', '.join(messages)}" for name, messages in errors.items())
    return _render(
        request,
        status=422,
        slug=ValidationFailed.slug,
        title=ValidationFailed.title,
        detail=detail,
        errors=errors,
        headers={},
    )


class SeeClickFixRoute(UnitOfWorkRoute):
    """A unit of work per request, with SeeClickFix's error object."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                return domain_error(request, exc)
            except RequestValidationError as exc:
                return validation_error(request, exc)
            except DATABASE_FAILURES as exc:
                refusal = unavailable(exc)
                if refusal is None:
                    raise  # a fault of ours: the app's handler logs it and answers 500
                return domain_error(request, refusal)

        return route_handler
