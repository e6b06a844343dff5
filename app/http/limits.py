"""Abuse limits: how often one client address, and one account or device, may log in, sign up,
ask for a password reset or an address check, report, upload, comment, flag, support and
export (README "Rate limits and
lockout"), and the log-in back-off.

Routers declare them: `dependencies=[RateLimited(Action.comment)]`. Counts live in memory, or in
Redis when CIVICLOOP_REDIS_URL is set so that every API process shares them; the `limits`
library's sliding-window counter keeps one or two counters per key, so a window's edge allows
no double burst. A request over an allowance answers 429 with `Retry-After`.
"""

# No `from __future__ import annotations` here: FastAPI reads the annotations of the dependency
# that `RateLimited` builds, and they name the closure's own `per`.

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import orjson
from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from app import i18n
from app.config import Settings
from app.deps import OptionalUser
from app.errors import TooManyRequests, Unauthenticated, answers
from app.services.lockout import BackoffRule, LoginBackoff

log = logging.getLogger(__name__)


class Action(StrEnum):
    """What is limited; each has the settings `rate_limit_<action>` and `rate_limit_<action>_ip`."""

    login = "login"
    register = "register"
    password_reset = "password_reset"
    report = "report"
    photo = "photo"
    comment = "comment"
    flag = "flag"
    verify = "verify"
    support = "support"
    export = "export"
    my_data = "my_data"
    contractor = "contractor"
    line = "line"
    seeclickfix = "seeclickfix"


@dataclass(frozen=True)
class Allowance:
    per_subject: tuple[RateLimitItem, ...]
    per_address: tuple[RateLimitItem, ...]


def _items(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec)) if spec else ()


def storage_for(settings: Settings) -> Storage:
    if settings.redis_url:
        # Storage errors are wrapped so that one except clause sees them (_unless_storage_down).
        return RedisStorage(
            f"async+{settings.redis_url}",
            implementation="redispy",
            key_prefix=settings.rate_limit_prefix,
            wrap_exceptions=True,
            # A Redis that does not answer must not hold requests: they pass uncounted.
            socket_connect_timeout=1.0,
            socket_timeout=1.0,
        )
    return MemoryStorage()


@contextmanager
def _unless_storage_down(what: str) -> Iterator[None]:
    """A storage that cannot be reached lets the request through, logged: an outage of Redis
    must not stop people reporting."""
    try:
        yield
    except StorageError:
        log.exception("rate limit storage unavailable: %s not counted", what)


class Limiter:
    """The allowances of one application, counted in its storage."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        self.storage = storage_for(settings)
        self._counter = SlidingWindowCounterRateLimiter(self.storage)
        self._allowances = {
            action: Allowance(
                per_subject=_items(getattr(settings, f"rate_limit_{action}")),
                per_address=_items(getattr(settings, f"rate_limit_{action}_ip")),
            )
            for action in Action
        }
        self.login_backoff = LoginBackoff(self.storage, BackoffRule.from_settings(settings))

    async def hit(self, action: Action, address: str, subject: str | None) -> None:
        """Counts one request against its address's and its subject's allowances; refuses it
        (429) when one is spent."""
        allowance = self._allowances[action]
        with _unless_storage_down(action):
            await self._hit(action, "ip", address, allowance.per_address)
            if subject is not None:
                await self._hit(action, "subject", subject, allowance.per_subject)

    async def _hit(
        self, action: Action, scope: str, key: str, items: tuple[RateLimitItem, ...]
    ) -> None:
        for item in items:
            if not await self._counter.hit(item, action, scope, key):
                stats = await self._counter.get_window_stats(item, action, scope, key)
                seconds = max(math.ceil(stats.reset_time - time.time()), 1)
                raise TooManyRequests(
                    i18n.text("error.limit.exceeded", seconds=seconds), retry_after=seconds
                )


def client_address(request: Request) -> str:
    """The connection's peer as the ASGI server reports it: uvicorn puts the forwarded address
    there only for a peer in CIVICLOOP_TRUSTED_PROXIES, so no client can choose its own. An
    IPv6 client is counted by its /64, which one subscriber holds whole."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _digest(kind: str, value: str) -> str:
    # Keys name accounts without holding e-mail addresses or device secrets in the store.
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


async def by_caller(request: Request, user: OptionalUser) -> str | None:
    """The account calling, or the device that has not reported yet (it has no account)."""
    if user is not None:
        return f"user:{user.id}"
    device_id = request.headers.get("x-device-id")
    return _digest("device", device_id) if device_id else None


async def by_email(request: Request) -> str | None:
    """The account a log-in or sign-up names: the JSON body's `email` (the route
    class has read and checked the body already)."""
    try:
        email = orjson.loads(await request.body()).get("email")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return _digest("email", email.strip().lower()) if isinstance(email, str) else None


async def by_link_token(request: Request) -> str | None:
    """The signed link in the path (a contractor's): each link has an allowance of its own."""
    token = request.path_params.get("token")
    return _digest("link", token) if isinstance(token, str) else None


async def by_open311_submitter(request: Request) -> str | None:
    """A GeoReport submitter: the device or e-mail the form names, else the integration's key."""
    form = await request.form()
    for name in ("device_id", "email", "api_key"):
        value = form.get(name) or (request.query_params.get(name) if name == "api_key" else None)
        if isinstance(value, str) and value:
            return _digest(name, value.strip().lower())
    return None


Subject = Callable[..., Awaitable[str | None]]


def RateLimited(action: Action, per: Subject = by_caller) -> DependsParam:
    """A route dependency counting the request against `action`'s allowances, per client
    address and per the subject `per` names."""

    @answers(429)
    async def check(request: Request, subject: Annotated[str | None, Depends(per)]) -> None:
        limiter: Limiter = request.app.state.limiter
        if limiter.enabled:
            await limiter.hit(action, client_address(request), subject)

    dependency: DependsParam = Depends(check)
    return dependency


@answers(429)
async def _login_backoff(
    request: Request, account: Annotated[str | None, Depends(by_email)]
) -> AsyncIterator[None]:
    limiter: Limiter = request.app.state.limiter
    if not limiter.enabled or account is None:
        yield
        return
    backoff = limiter.login_backoff
    with _unless_storage_down("log-in back-off"):
        await backoff.check(account)
    try:
        yield
    except Unauthenticated:
        with _unless_storage_down("log-in failure"):
            await backoff.failed(account)
        raise
    with _unless_storage_down("log-in success"):
        await backoff.succeeded(account)


# Ends with the handler (scope "function"), so the outcome of the password check is counted.
LoginBackoffDep = Depends(_login_backoff, scope="function")
