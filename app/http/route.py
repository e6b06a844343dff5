"""The route class every API router uses: one unit of work per request, committed before the
response is sent (a commit after it could fail after the client was told "201 Created")."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import params
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app import i18n
from app.errors import (
    FieldText,
    MalformedJson,
    UnsupportedMediaType,
    ValidationFailed,
    fields_detail,
)
from app.schemas.base import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from app.services import idempotency

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _has_body(request: Request) -> bool:
    return request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )


async def _check_json_body(request: Request) -> None:
    """The body is JSON as RFC 8259 has it: UTF-8, no NaN or Infinity, nesting kept shallow.

    Reading it here also enforces the size limit (app.bodylimit) before any dependency runs;
    FastAPI reuses the bytes read.
    """
    if not is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "Send the body as JSON with the header 'Content-Type: application/json'."
        )
    check_json(await request.body())


def check_json(raw: bytes) -> None:
    """Refuse what is not strict JSON (orjson's reading of RFC 8259) with a 400 naming where."""
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(f"The request body is not valid JSON: {exc}.") from None


def _check_query_text(request: Request) -> None:
    """No query parameter may carry control characters (PostgreSQL text cannot hold NUL, and
    none belongs in a search, a code or an address): refused alike on every route."""
    for name, value in request.query_params.multi_items():
        if has_control_characters(value):
            problems = [FieldText(f"query.{name}", CONTROL_CHARACTERS_MESSAGE, "invalid")]
            raise ValidationFailed(fields_detail(problems), errors=problems)


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        expects_json = self.body_field is not None and not isinstance(
            self.body_field.field_info, params.Form
        )

        async def route_handler(request: Request) -> Response:
            _check_query_text(request)
            if expects_json and request.method in BODY_METHODS and _has_body(request):
                await _check_json_body(request)
            with i18n.answering(request):
                response = await handler(request)
                if i18n.worded():
                    i18n.say_language(response, i18n.of_request(request))
            session: Session | None = getattr(request.state, "session", None)
            if session is not None and response.status_code < 400:
                claim: idempotency.Claim | None = getattr(request.state, "idempotency_claim", None)
                if claim is not None:
                    idempotency.record_response(
                        session,
                        claim,
                        status_code=response.status_code,
                        headers=dict(response.headers),
                        body=bytes(response.body),
                    )
                await run_in_threadpool(session.commit)
            return response

        return route_handler
