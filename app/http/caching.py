"""Who may keep an answer: one rule sets Cache-Control and Vary on every response.

- personal answers (routes that declare `Personal`: the caller's profile, follows, watches,
  notifications, webhooks) are `no-store`: not kept anywhere, not even by the caller's browser;
- an answer to a caller who sent credentials may depend on who they are: `private`;
- anything else is a public read and stays cacheable (routes may set their own max-age).
Every answer varies with the credential headers, so no cache serves one caller's answer to another.
A route that sets Cache-Control itself (photos, statistics, tokens, the feed) keeps its own.
"""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.datastructures import MutableHeaders
from starlette.types import Scope

# The headers the API identifies its caller by (app.deps).
CREDENTIAL_HEADERS = ("Authorization", "X-API-Key", "X-Device-Id")
_PERSONAL = "civicloop.personal"


async def _mark_personal(request: Request) -> None:
    # The route shares its scope with app.http.middleware, which reads this when it answers.
    request.scope[_PERSONAL] = True


# Route or router dependency: the answer is about its caller and must never be stored.
Personal = Depends(_mark_personal)


def cache_control(*, personal: bool, credentials: bool) -> str | None:
    """The Cache-Control of an answer that set none; None leaves a public read cacheable."""
    if personal:
        return "no-store"
    if credentials:
        return "private"
    return None


def is_personal(scope: Scope) -> bool:
    return bool(scope.get(_PERSONAL))


def apply_policy(headers: MutableHeaders, *, personal: bool, credentials: bool) -> None:
    """The answer's Cache-Control unless it set its own, and Vary on the credential headers."""
    policy = cache_control(personal=personal, credentials=credentials)
    if policy is not None and "cache-control" not in headers:
        headers["Cache-Control"] = policy
    for name in CREDENTIAL_HEADERS:
        headers.add_vary_header(name)
