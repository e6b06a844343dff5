"""Shared dependencies: the session, who is calling, and small header parsers."""

from __future__ import annotations

import contextlib
import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import i18n
from app.config import Settings
from app.db import get_session, get_write_session
from app.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    PreconditionRequired,
    Unauthenticated,
    answers,
)
from app.models import Language, Role, User
from app.models.base import MAX_ID
from app.security import read_token, secret_digest
from app.services import accounts, idempotency, sessions
from app.services.pagination import CursorCodec
from app.services.photos import PhotoLinks
from app.spatial import SpatialBackend
from app.storage import PhotoStore


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key for integrations.")
_device_id = APIKeyHeader(
    name="X-Device-Id",
    auto_error=False,
    description="A random identifier (16-128 characters) the app generated and keeps secret: "
    "lets a citizen report and follow reports without an account.",
)


def _valid_device_id(device_id: str) -> str:
    if not 16 <= len(device_id) <= 128 or not device_id.isprintable():
        # A credential that cannot be used, like a malformed token: 401, as every such endpoint
        # documents.
        raise Unauthenticated(i18n.text("error.auth.device_id"))
    return device_id


@answers(400, 401)
def get_optional_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
    device_id: Annotated[str | None, Depends(_device_id)],
) -> User | None:
    """Whoever the credentials name; bad credentials are an error, not anonymity."""
    return _identify(request, session, settings, bearer, api_key, device_id)


def _identify(
    request: Request,
    session: Session,
    settings: Settings,
    bearer: HTTPAuthorizationCredentials | None,
    api_key: str | None,
    device_id: str | None,
) -> User | None:
    """Who is calling, worked out once per request (a refusal too, raised wherever the caller
    is asked for). Their saved language goes on the request's state, where answers written
    after the session ended (errors) find it."""
    outcome: User | DomainError | None = getattr(request.state, "caller", _UNKNOWN)
    if outcome is _UNKNOWN:
        try:
            outcome = _authenticate(request, session, settings, bearer, api_key, device_id)
        except DomainError as refused:
            outcome = refused
        request.state.caller = outcome
        request.state.saved_language = outcome.language if isinstance(outcome, User) else None
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


_UNKNOWN: Any = object()


async def recognise_caller(request: Request, session: SessionDep, settings: SettingsDep) -> None:
    """Every API route's first dependency: the caller's saved language is known before anything
    else can fail (a path naming no issue, a bad body), so every answer is worded in it. Bad
    credentials are refused only where a route asks who is calling."""
    credentials = (
        await _bearer(request),
        await _api_key(request),
        await _device_id(request),
    )
    with contextlib.suppress(DomainError):
        await run_in_threadpool(_identify, request, session, settings, *credentials)


def _authenticate(
    request: Request,
    session: Session,
    settings: Settings,
    bearer: HTTPAuthorizationCredentials | None,
    api_key: str | None,
    device_id: str | None,
) -> User | None:
    """The caller named by the strongest credential (token, then API key, then device). Every
    credential sent must hold, the outranked ones too: a forged or stale extra one is refused,
    not silently ignored."""
    if bearer is None and "authorization" in request.headers:
        # Another scheme, or no token: the caller meant to identify and would be served as anyone.
        raise Unauthenticated(i18n.text("error.auth.scheme"))
    callers = [
        sessions.caller(session, settings, bearer.credentials)[0] if bearer is not None else None,
        accounts.user_from_api_key(session, api_key) if api_key is not None else None,
        _device_caller(session, device_id) if device_id is not None else None,
    ]
    return next((caller for caller in callers if caller is not None), None)


def _device_caller(session: Session, device_id: str) -> User | None:
    user = accounts.find_device_user(session, _valid_device_id(device_id))
    if user is not None and not user.is_active:
        # Like a revoked key: a credential that no longer works (401 is documented everywhere).
        raise Unauthenticated(i18n.text("error.auth.device_blocked"))
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


@answers(401)
def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise Unauthenticated(i18n.text("error.auth.required"))
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@answers(401)
def get_login_session(
    user: CurrentUser,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    """The login session of a caller who sent an access token (API keys and devices have none)."""
    claims = read_token(settings, bearer.credentials, expected="access") if bearer else None
    if claims is None:
        raise Unauthenticated(i18n.text("error.auth.session_required"))
    return claims.session_id


def get_language(request: Request, user: OptionalUser) -> Language:
    """Accept-Language when it names Thai or English, else the user's setting, else English."""
    return i18n.of_request(request)


LanguageDep = Annotated[Language, Depends(get_language)]
# A stored row's id in a path: larger numbers name nothing and must not reach the driver.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


@answers(403)
def refuse_api_key(
    _: CurrentUser,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> None:
    """Credentials are made by a person who logged in: a leaked API key must not be able to mint
    keys or accounts that would outlive its revocation."""
    if bearer is None and api_key is not None:
        raise Forbidden(i18n.text("error.auth.api_key_mints"))


NotByApiKey = Depends(refuse_api_key)


@answers(400, 401)
def get_reporter(
    session: SessionDep,
    user: OptionalUser,
    device_id: Annotated[str | None, Depends(_device_id)],
) -> User:
    """The reporting citizen: an account, or the anonymous user behind an X-Device-Id."""
    if user is not None:
        return user
    if device_id is not None:
        return accounts.device_user(session, _valid_device_id(device_id))
    raise Unauthenticated(i18n.text("error.auth.reporter"))


Reporter = Annotated[User, Depends(get_reporter)]


def require_role(*roles: Role) -> Any:
    """A dependency admitting only users with one of these roles."""

    @answers(403)
    def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            labels = [i18n.text(f"label.role.{role.value}") for role in roles]
            raise Forbidden(i18n.text("error.auth.role", roles=labels))
        return user

    return Depends(dependency)


@answers(400, 412, 428)  # 412 when the version it names is no longer current
def parse_if_match(
    user: CurrentUser,
    if_match: Annotated[
        str | None,
        Header(
            description='The issue\'s ETag as last read (`"3"`), or `*` for whatever version is '
            "current. Staff and admins must send it (428 otherwise); citizens may leave it out.",
        ),
    ] = None,
) -> int | None:
    """The version an `If-Match: "N"` header expects; `*` means any version. Staff work on an
    issue together, so a change of theirs must name the version it was made on (RFC 6585 428),
    or one would silently undo another's; a citizen's app may leave the header out."""
    if if_match is None:
        if user.role is not Role.citizen:
            raise PreconditionRequired(i18n.text("error.if_match_required"), header="If-Match")
        return None
    if if_match.strip() == "*":
        return None
    tag = if_match.strip()
    if tag.startswith('"') and tag.endswith('"') and tag[1:-1].isdigit():
        return int(tag[1:-1])
    raise BadRequest(i18n.text("error.if_match"))


IfMatch = Annotated[int | None, Depends(parse_if_match)]


def _idempotency_principal(user: User | None, device_id: str | None) -> str:
    # A device's first report creates its user, so a device is keyed by the device, not the user:
    # otherwise the retry of that first report would not find the key.
    if device_id and (user is None or user.device_id_hash == secret_digest(device_id)):
        return f"device:{secret_digest(device_id)[:48]}"
    return f"user:{user.id}" if user else "anonymous"


@answers(409, 422)  # 409 while the first request is in flight, 422 for a reused key
async def claim_idempotency_key(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=8,
            max_length=255,
            description="A unique key per logical request (a UUID): retries with the same key "
            "return the first response and create nothing new.",
        ),
    ] = None,
) -> None:
    if idempotency_key is None:
        return
    # Streamed uploads leave the digest of the body they read; other bodies are small.
    digest = getattr(request.state, "body_digest", None)
    if digest is None:
        digest = hashlib.sha256(await request.body()).hexdigest()
    principal = _idempotency_principal(user, request.headers.get("x-device-id"))
    outcome = await run_in_threadpool(
        idempotency.claim,
        session,
        principal=principal,
        key=idempotency_key,
        request_fingerprint=idempotency.fingerprint(request.method, request.url.path, digest),
        ttl=settings.idempotency_ttl,
    )
    if isinstance(outcome, idempotency.StoredResponse):
        raise IdempotentReplay(outcome)
    request.state.idempotency_claim = outcome


class IdempotentReplay(Exception):
    """Raised to answer a retried request with the stored response."""

    def __init__(self, stored: idempotency.StoredResponse) -> None:
        self.stored = stored


Idempotent = Depends(claim_idempotency_key)
# As a parameter after the upload: claimed once the photos are read, not before.
IdempotentAfterUpload = Annotated[None, Idempotent]


def get_spatial(request: Request) -> SpatialBackend:
    spatial: SpatialBackend = request.app.state.database.spatial
    return spatial


def get_cursors(request: Request) -> CursorCodec:
    cursors: CursorCodec = request.app.state.cursors
    return cursors


SpatialDep = Annotated[SpatialBackend, Depends(get_spatial)]
CursorsDep = Annotated[CursorCodec, Depends(get_cursors)]


def get_photo_store(request: Request) -> PhotoStore:
    store: PhotoStore = request.app.state.photo_store
    return store


def get_photo_links(request: Request) -> PhotoLinks:
    api_base = str(request.base_url).rstrip("/") + "/api/v1"
    return PhotoLinks(api_base=api_base, store=request.app.state.photo_store)


def get_photo_workers(request: Request) -> ThreadPoolExecutor:
    workers: ThreadPoolExecutor = request.app.state.photo_workers
    return workers


PhotoStoreDep = Annotated[PhotoStore, Depends(get_photo_store)]
PhotoLinksDep = Annotated[PhotoLinks, Depends(get_photo_links)]
PhotoWorkersDep = Annotated[ThreadPoolExecutor, Depends(get_photo_workers)]
