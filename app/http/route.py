"""The route class every API router uses: one unit of work per request, committed before the
response is sent (a commit after it could fail after the client was told "201 Created").

It only commits: the body was read and checked before the application ran (app.http.body),
and query parameters are checked by a dependency (app.http.params)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app import i18n
from app.errors import DATABASE_FAILURES, DomainError, unavailable
from app.services import idempotency


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            with i18n.answering(request):
                response = await handler(request)
                if i18n.worded():
                    i18n.say_language(response, i18n.answered_in(request))
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


class ForeignErrorsRoute(UnitOfWorkRoute):
    """A unit of work per request whose refusals are answered in another standard's error format
    (GeoReport v2, SeeClickFix) instead of problem+json: each surface's subclass says how."""

    @staticmethod
    def domain_error(request: Request, exc: DomainError) -> Response:
        raise NotImplementedError

    @staticmethod
    def validation_error(request: Request, exc: RequestValidationError) -> Response:
        raise NotImplementedError

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                return self.domain_error(request, exc)
            except RequestValidationError as exc:
                return self.validation_error(request, exc)
            except DATABASE_FAILURES as exc:
                refusal = unavailable(exc)
                if refusal is None:
                    raise  # a fault of ours: the app's handler logs it and answers 500
                return self.domain_error(request, refusal)

        return route_handler
