"""Domain errors and the one place that renders every error as RFC 9457 problem details."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, Protocol, TypeVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app import i18n
from app.http.links import public_url
from app.http.methods import allowed_methods
from app.models.user import Language
from app.schemas.problem import FieldProblem, Problem

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class FieldText:
    """A field problem whose message is worded for its reader when the answer is written."""

    location: str
    message: i18n.Text
    code: str

    def render(self, lang: Language) -> FieldProblem:
        return FieldProblem(
            location=self.location, message=self.message.render(lang), code=self.code
        )


AnyFieldProblem = FieldProblem | FieldText


def fields_detail(problems: Sequence[FieldText]) -> i18n.Text:
    """A detail naming each field problem ("body.x: message, ..."), worded for its reader."""
    return i18n.text(
        "error.fields",
        fields=[i18n.text("error.field", location=p.location, message=p.message) for p in problems],
    )


def field_problems_in(problems: Iterable[AnyFieldProblem], lang: Language) -> list[FieldProblem]:
    return [p.render(lang) if isinstance(p, FieldText) else p for p in problems]


class DomainError(Exception):
    """A rule was broken; subclasses fix the HTTP status, a stable type slug and a title."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | i18n.Text,
        *,
        errors: Sequence[AnyFieldProblem] = (),
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(str(detail))
        # A Text is worded in the language of the request when the answer is written.
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extensions = extensions

    def detail_in(self, lang: Language) -> str:
        return self.detail.render(lang) if isinstance(self.detail, i18n.Text) else self.detail

    def errors_in(self, lang: Language) -> list[FieldProblem]:
        return field_problems_in(self.errors, lang)


class BadRequest(DomainError):
    pass


class HostNotAllowed(DomainError):
    slug = "host-not-allowed"
    title = "Host not allowed"


class MalformedJson(DomainError):
    slug = "malformed-json"
    title = "Malformed JSON"


class InvalidCursor(DomainError):
    slug = "invalid-cursor"
    title = "Invalid pagination cursor"


class InvalidLink(DomainError):
    slug = "invalid-link"
    title = "The link is not valid"


class LinkGone(DomainError):
    status = 410
    slug = "link-gone"
    title = "The link no longer works"


class NotConfigured(DomainError):
    status = 503
    slug = "not-configured"
    title = "Not configured on this server"


class Unauthenticated(DomainError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"

    def __init__(self, detail: str | i18n.Text) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = "Transition not allowed from the current status"


class ClaimFirst(Conflict):
    slug = "claim-first"
    title = "Claim the issue first"


class AlreadyClaimed(Conflict):
    slug = "already-claimed"
    title = "Issue already claimed"


class ConcurrentUpdate(Conflict):
    slug = "concurrent-update"
    title = "Changed by someone else at the same time"


class AlreadySupported(Conflict):
    slug = "already-supported"
    title = "You already support this issue"


class OwnIssue(Conflict):
    slug = "own-issue"
    title = "This is your own report"


class IssueNotOpen(Conflict):
    slug = "issue-not-open"
    title = "The issue is no longer open"


class PreconditionFailed(DomainError):
    status = 412
    slug = "stale-version"
    title = "The resource changed since you read it"


class PreconditionRequired(DomainError):
    status = 428
    slug = "precondition-required"
    title = "Say which version you change"


class BodyAbandoned(DomainError):
    """Refused before the body was read to its end. The rest may still be on its way, so the
    connection cannot carry another request: it is closed (reading a refused body to its end
    would let a client keep it open at will)."""

    def __init__(self, detail: str | i18n.Text, **extensions: Any) -> None:
        super().__init__(detail, headers={"Connection": "close"}, **extensions)


class PayloadTooLarge(BodyAbandoned):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class RequestTimeout(BodyAbandoned):
    status = 408
    slug = "request-timeout"
    title = "The request took too long to arrive"


class UnsupportedMediaType(DomainError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class UnsupportedPhotoType(UnsupportedMediaType):
    slug = "unsupported-photo-type"
    title = "Not a photo this service accepts"


class PhotoTooLarge(BodyAbandoned):
    status = 413
    slug = "photo-too-large"
    title = "Photo too large"


class InvalidPhoto(DomainError):
    status = 422
    slug = "invalid-photo"
    title = "The photo cannot be accepted"


class PhotoLimitReached(Conflict):
    slug = "photo-limit-reached"
    title = "The issue has as many photos as it may hold"


class IssueHidden(Conflict):
    slug = "issue-hidden"
    title = "The issue is hidden by moderation"


class AlreadyFlagged(Conflict):
    slug = "already-flagged"
    title = "You already flagged this comment"


class IssueAlreadyFlagged(Conflict):
    slug = "issue-already-flagged"
    title = "You already flagged this issue"


class NotAwaitingReview(Conflict):
    slug = "not-awaiting-review"
    title = "The report is not awaiting review"


class StorageUnavailable(DomainError):
    status = 503
    slug = "storage-unavailable"
    title = "Photo storage is unavailable"


class ValidationFailed(DomainError):
    status = 422
    slug = "validation-failed"
    title = "The request is not valid"


class EmergencyReport(ValidationFailed):
    slug = "emergency"
    title = "An emergency: call the emergency number"


class UnknownCategory(ValidationFailed):
    """Answered like any validation failure; Open311 answers it as "service_code not found"."""


class InvalidAttributes(ValidationFailed):
    slug = "invalid-attributes"
    title = "Answers do not fit the category's questions"


class InvalidTemplate(ValidationFailed):
    slug = "invalid-template"
    title = "The template's placeholders are not valid"


class IdempotencyKeyReused(DomainError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency key reused for a different request"


class TooManyRequests(DomainError):
    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str | i18n.Text, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


# What a client waits before retrying while the database restarts, a lock is held or every
# pooled connection is taken.
RETRY_AFTER_SECONDS = 2


class ServiceUnavailable(DomainError):
    """A moment's refusal (503): the client is told when to try again (RFC 9110 Retry-After)."""

    status = 503
    slug = "not-ready"
    title = "Not ready to serve requests"

    def __init__(
        self, detail: str | i18n.Text, *, retry_after: int = RETRY_AFTER_SECONDS, **extensions: Any
    ) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **extensions)


class Busy(ServiceUnavailable):
    """Every pooled connection stayed taken for the whole pool timeout: a load peak."""

    slug = "busy"
    title = "Too busy to answer right now"


class DatabaseUnavailable(ServiceUnavailable):
    """The database is out of reach (a restart) or SQLite's write lock outlasted its timeout."""

    slug = "database-unavailable"
    title = "The database is unavailable for a moment"


# SQLite's primary result codes for "another connection holds the lock" (extended codes add bits).
_SQLITE_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


STATUS_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    408: "Request timeout",
    409: "Conflict with the current state",
    412: "The resource changed since you read it",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "The request is not valid",
    428: "Say which version you change",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def status_slug(status: int) -> str:
    """The problem type of an error that only has a status (no route, method not allowed...)."""
    return STATUS_TITLES.get(status, "Error").lower().replace(" ", "-")


def problem_type(request: Request, slug: str) -> str:
    return public_url(request, f"/problems/{slug}")


class ProblemPages(Protocol):
    """Problems shown as pages to a browser on the pages' paths (app.web installs them with
    `install_error_handlers`; this module cannot import the pages, which import it)."""

    def language(self, request: Request) -> Language | None:
        """The reader's language if the path is a page's, else None (an API's, a feed's)."""

    def render(
        self, request: Request, problem: Problem, lang: Language, *, worded: bool
    ) -> Response:
        """The page; `worded` says the detail was written for people (a catalog text)."""


def _quality(ranges: Mapping[str, float], media_type: str) -> float:
    """The quality of `media_type` by the most specific range naming it (RFC 9110 §12.5.1)."""
    for candidate in (media_type, media_type.split("/")[0] + "/*", "*/*"):
        if candidate in ranges:
            return ranges[candidate]
    return 0.0


def prefers_html(accept: str | None) -> bool:
    """Whether an Accept header ranks text/html above JSON, as browsers' page requests do;
    `*/*` or no header at all ranks them equally, and programs get problem+json."""
    ranges: dict[str, float] = {}
    for item in (accept or "").split(","):
        kind, *parameters = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges[kind] = quality
    html = _quality(ranges, "text/html")
    return html > max(_quality(ranges, "application/json"), _quality(ranges, PROBLEM_MEDIA_TYPE))


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str | i18n.Text,
    errors: Iterable[AnyFieldProblem] = (),
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """The answer in the request's language: the title by the problem type, the detail when it
    is a catalog text (free-form details stay as written). A browser asking for a page gets
    the same problem as a page, with the same status and headers."""
    pages: ProblemPages | None = getattr(request.app.state, "problem_pages", None)
    page_lang = (
        pages.language(request)
        if pages is not None and prefers_html(request.headers.get("accept"))
        else None
    )
    lang = page_lang or i18n.of_request(request)
    for key in (f"problem.{slug}", f"http.{status}"):
        if i18n.has(key):
            title = i18n.t(key, lang)
            break
    body = Problem(
        type=problem_type(request, slug),
        title=title,
        status=status,
        detail=detail.render(lang) if isinstance(detail, i18n.Text) else detail,
        instance=request.url.path,
        errors=field_problems_in(errors, lang) or None,
        **(extensions or {}),
    )
    if pages is not None and page_lang is not None:
        page = pages.render(request, body, lang, worded=isinstance(detail, i18n.Text))
        page.headers.update(headers or {})
        return page
    response = Response(
        body.model_dump_json(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )
    i18n.say_language(response, lang)
    return response


def domain_problem(request: Request, exc: DomainError) -> Response:
    """The problem+json answer for a domain error (also for middleware outside the handlers)."""
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_problem(request, exc)


def _location(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def field_message(error: Mapping[str, Any], lang: Language) -> str:
    """A pydantic error's message in `lang`, by its type and context (`validation.<type>` in the
    catalogs); pydantic's own English for types the catalogs do not word."""
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, ValueError) and cause.args and isinstance(cause.args[0], i18n.Text):
        return cause.args[0].render(lang)
    key = f"validation.{error['type']}"
    if i18n.has(key):
        # As pydantic words them: a bound of 90.0 reads "90".
        plain = {
            name: int(v) if isinstance(v, float) and v.is_integer() else v
            for name, v in context.items()
        }
        try:
            return i18n.t(key, lang, **plain)
        except (KeyError, IndexError, ValueError):
            pass  # a context the text does not expect: pydantic's words are still right
    return str(error["msg"])


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    lang = i18n.of_request(request)
    errors = [
        FieldProblem(
            location=_location(e["loc"]), message=field_message(e, lang), code=str(e["type"])
        )
        for e in exc.errors()
    ]
    return problem_response(
        request,
        status=422,
        slug=ValidationFailed.slug,
        title=ValidationFailed.title,
        detail="; ".join(f"{p.location}: {p.message}" for p in errors),
        errors=errors,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = STATUS_TITLES.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names the methods of the one route it tried; the path may have others.
        headers["Allow"] = ", ".join(allowed_methods(request.app.router.routes, request.scope))
    if detail == HTTPStatus(exc.status_code).phrase:
        # Starlette's bare reason phrase (no such path, method not allowed): say what was asked.
        allow = headers.get("Allow")
        detail += f": {request.method} {request.url.path}" + (
            f"; allowed: {allow}" if allow else ""
        )
    return problem_response(
        request,
        status=exc.status_code,
        slug=status_slug(exc.status_code),
        title=title,
        detail=detail,
        headers=headers,
    )


def _integrity_error(request: Request, exc: Exception) -> Response:
    # Services check what they can first; a constraint that still fires lost a race.
    log.warning("integrity error translated to 409: %s", exc)
    return problem_response(
        request,
        status=409,
        slug=Conflict.slug,
        title=Conflict.title,
        detail="The change conflicts with data stored at the same time; reload and retry.",
    )


def database_unavailable(exc: BaseException | None) -> bool:
    """The database could not serve this request now but may in a moment: a connection lost or
    refused (a restart), or SQLite's write lock still held when the busy timeout ran out.
    PEP 249's OperationalError is exactly "not under the control of the programmer"; SQLite
    also raises it for bad SQL, so there only the lock codes count."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    if isinstance(exc, sqlite3.OperationalError):
        return exc.sqlite_errorcode & 0xFF in _SQLITE_BUSY_CODES
    return isinstance(exc, psycopg.OperationalError)


def _stale_data(request: Request, exc: Exception) -> Response:
    return problem_response(
        request,
        status=ConcurrentUpdate.status,
        slug=ConcurrentUpdate.slug,
        title=ConcurrentUpdate.title,
        detail="Someone else changed this at the same moment; reload it and try again.",
    )


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 a database failure stands for, if it is one that passes: no pooled connection
    free within the pool timeout, or the database out of reach for a moment. Every route's
    answer to it comes from here, problem+json and Open311 alike."""
    refusal: ServiceUnavailable
    if isinstance(exc, PoolTimeout):
        refusal = Busy(i18n.text("error.busy", seconds=RETRY_AFTER_SECONDS))
    elif database_unavailable(exc):
        refusal = DatabaseUnavailable(
            i18n.text("error.database.unavailable", seconds=RETRY_AFTER_SECONDS)
        )
    else:
        return None
    log.warning("answered 503 (%s): %s", refusal.slug, exc)
    return refusal


# The exceptions a database failure reaches a route as; `unavailable` tells which pass.
DATABASE_FAILURES = (DBAPIError, psycopg.OperationalError, PoolTimeout)


def _database_failure(request: Request, exc: Exception) -> Response:
    refusal = unavailable(exc)
    return _unexpected(request, exc) if refusal is None else domain_problem(request, refusal)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title=STATUS_TITLES[500],
        detail="Something went wrong on our side; it has been logged.",
    )


def install_error_handlers(app: FastAPI, pages: ProblemPages | None = None) -> None:
    app.state.problem_pages = pages
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    for failure in DATABASE_FAILURES:
        app.add_exception_handler(failure, _database_failure)
    app.add_exception_handler(StaleDataError, _stale_data)
    app.add_exception_handler(Exception, _unexpected)


DependencyT = TypeVar("DependencyT", bound=Callable[..., Any])
# The attribute `answers` sets on a dependency; app.main reads it to document every operation.
ANSWERS_ATTRIBUTE = "__problem_statuses__"


def answers(*statuses: int) -> Callable[[DependencyT], DependencyT]:
    """Declares the problem statuses a dependency can answer, so that every operation using it
    documents them in /openapi.json without each route repeating the list."""

    def mark(dependency: DependencyT) -> DependencyT:
        setattr(dependency, ANSWERS_ATTRIBUTE, statuses)
        return dependency

    return mark


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem+json answers for these statuses."""
    return {
        status: {
            "description": STATUS_TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
