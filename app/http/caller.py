"""Who is calling: a bearer token, an API key or a device id, checked on a read-only session
of its own that is closed before the request's unit of work begins. A token check so takes no
write lock (SQLite) and keeps no pooled connection (PostgreSQL) while the request goes on."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import i18n
from app.config import Settings, SettingsDep
from app.db import Database, SessionDep
from app.errors import DomainError, Unauthenticated, answers
from app.models import User
from app.services import accounts, sessions

bearer_scheme = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login.")
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key for integrations."
)
device_id_scheme = APIKeyHeader(
    name="X-Device-Id",
    auto_error=False,
    description="A random identifier (16-128 characters) the app generated and keeps secret: "
    "lets a citizen report and follow reports without an account.",
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
ApiKeyCredentials = Annotated[str | None, Depends(api_key_scheme)]
DeviceIdCredentials = Annotated[str | None, Depends(device_id_scheme)]


def valid_device_id(device_id: str) -> str:
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
    bearer: BearerCredentials,
    api_key: ApiKeyCredentials,
    device_id: DeviceIdCredentials,
) -> User | None:
    """Whoever the credentials name, as a row of this request's unit of work; bad credentials
    are an error, not anonymity."""
    caller = _identify(request, settings, bearer, api_key, device_id)
    # Read moments ago on the identifying session: taken over as it is, without reading again.
    return None if caller is None else session.merge(caller, load=False)


def _identify(
    request: Request,
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
        if _anonymous(request, bearer, api_key, device_id):
            outcome = None
        else:
            database: Database = request.app.state.database
            with database.session(write=False) as reading:
                try:
                    outcome = _authenticate(request, reading, settings, bearer, api_key, device_id)
                except DomainError as refused:
                    outcome = refused
        request.state.caller = outcome
        request.state.saved_language = outcome.language if isinstance(outcome, User) else None
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


_UNKNOWN: Any = object()


async def recognise_caller(request: Request, settings: SettingsDep) -> None:
    """Every API route's first dependency: the caller's saved language is known before anything
    else can fail (a path naming no issue, a bad body), so every answer is worded in it. Bad
    credentials are refused only where a route asks who is calling."""
    credentials = (
        await bearer_scheme(request),
        await api_key_scheme(request),
        await device_id_scheme(request),
    )
    with contextlib.suppress(DomainError):
        if _anonymous(request, *credentials):
            # Nothing to look up: no database session, and no thread to run it on.
            _identify(request, settings, *credentials)
        else:
            await run_in_threadpool(_identify, request, settings, *credentials)


def _anonymous(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None,
    api_key: str | None,
    device_id: str | None,
) -> bool:
    sent = (bearer, api_key, device_id)
    return all(c is None for c in sent) and "authorization" not in request.headers


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
    user = accounts.find_device_user(session, valid_device_id(device_id))
    if user is not None and not user.is_active:
        # Like a revoked key: a credential that no longer works (401 is documented everywhere).
        raise Unauthenticated(i18n.text("error.auth.device_blocked"))
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


@answers(401)
async def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise Unauthenticated(i18n.text("error.auth.required"))
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
