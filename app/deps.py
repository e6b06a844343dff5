"""Shared dependencies: roles, the reporter, idempotency and small header parsers (who is
calling, the session and the settings come from app.http.caller)."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import i18n
from app.config import SettingsDep as SettingsDep  # routers import their dependencies from here
from app.db import SessionDep as SessionDep
from app.db import get_write_session
from app.errors import BadRequest, Forbidden, PreconditionRequired, Unauthenticated, answers
from app.http.caller import (
    ApiKeyCredentials,
    BearerCredentials,
    DeviceIdCredentials,
    valid_device_id,
)
from app.http.caller import CurrentUser as CurrentUser
from app.http.caller import OptionalUser as OptionalUser
from app.http.links import public_url
from app.models import Language, Role, User
from app.models.base import MAX_ID
from app.security import read_token, secret_digest
from app.services import accounts, city, idempotency, permissions
from app.services.pagination import CursorCodec
from app.services.photos import PhotoLinks
from app.spatial import SpatialBackend
from app.storage import PhotoStore

WriteSessionDep = Annotated[Session, Depends(get_write_session)]


@answers(401)
async def get_login_session(
    user: CurrentUser, settings: SettingsDep, bearer: BearerCredentials
) -> int:
    """The login session of a caller who sent an access token (API keys and devices have none)."""
    claims = read_token(settings, bearer.credentials, expected="access") if bearer else None
    if claims is None:
        raise Unauthenticated(i18n.text("error.auth.session_required"))
    return claims.session_id


async def get_language(request: Request, user: OptionalUser) -> Language:
    """Accept-Language when it names Thai or English, else the user's setting, else English."""
    return i18n.of_request(request)


LanguageDep = Annotated[Language, Depends(get_language)]
# A stored row's id in a path: larger numbers name nothing and must not reach the driver.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


@answers(403)
async def refuse_api_key(
    _: CurrentUser,
    bearer: BearerCredentials,
    api_key: ApiKeyCredentials,
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
    device_id: DeviceIdCredentials,
) -> User:
    """The reporting citizen: an account, or the anonymous user behind an X-Device-Id."""
    if user is not None:
        return user
    if device_id is not None:
        return accounts.device_user(session, valid_device_id(device_id))
    raise Unauthenticated(i18n.text("error.auth.reporter"))


Reporter = Annotated[User, Depends(get_reporter)]


def require_role(*roles: Role) -> Any:
    """A dependency admitting only users with one of these roles."""

    @answers(403)
    async def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            labels = [i18n.text(f"label.role.{role.value}") for role in roles]
            raise Forbidden(i18n.text("error.auth.role", roles=labels))
        return user

    return Depends(dependency)


@answers(400, 412, 428)  # 412 when the version it names is no longer current
async def parse_if_match(
    user: CurrentUser,
    if_match: Annotated[
        str | None,
        Header(
            description='The issue\'s ETag as last read (`"3"`), or `*` for whatever version is '
            "current. Staff and admins must send it (428 otherwise); citizens may leave it out.",
        ),
    ] = None,
) -> int | None:
    """The version an `If-Match: "N"` header expects; `*` means any version. Left out: 428 for
    staff (`permissions.must_name_version`), any version for a citizen's app."""
    if if_match is None:
        if permissions.must_name_version(user):
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


async def get_spatial(request: Request) -> SpatialBackend:
    spatial: SpatialBackend = request.app.state.database.spatial
    return spatial


async def get_cursors(request: Request) -> CursorCodec:
    cursors: CursorCodec = request.app.state.cursors
    return cursors


SpatialDep = Annotated[SpatialBackend, Depends(get_spatial)]
CursorsDep = Annotated[CursorCodec, Depends(get_cursors)]


async def get_photo_store(request: Request) -> PhotoStore:
    store: PhotoStore = request.app.state.photo_store
    return store


async def get_photo_links(request: Request) -> PhotoLinks:
    return PhotoLinks(api_base=public_url(request, "/api/v1"), store=request.app.state.photo_store)


async def get_photo_workers(request: Request) -> ThreadPoolExecutor:
    workers: ThreadPoolExecutor = request.app.state.photo_workers
    return workers


def get_city_zone(session: SessionDep, settings: SettingsDep) -> ZoneInfo:
    """The city's time zone, for the dates an API answer writes (CIVICLOOP_TIMEZONE before a
    city file was applied)."""
    return city.time_zone(session, fallback=settings.timezone)


CityZoneDep = Annotated[ZoneInfo, Depends(get_city_zone)]
PhotoStoreDep = Annotated[PhotoStore, Depends(get_photo_store)]
PhotoLinksDep = Annotated[PhotoLinks, Depends(get_photo_links)]
PhotoWorkersDep = Annotated[ThreadPoolExecutor, Depends(get_photo_workers)]
