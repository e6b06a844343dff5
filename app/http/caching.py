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
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The headers the API identifies its caller by (app.deps).
CREDENTIAL_HEADERS = ("Authorization", "X-API-Key", "X-Device-Id")
_PERSONAL = "civicloop.personal"


def _mark_personal(request: Request) -> None:
    # The route shares its scope with the middleware below, which reads this when it answers.
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


class CachePolicyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        credentials = any(name in request_headers for name in CREDENTIAL_HEADERS)

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                personal = bool(scope.get(_PERSONAL))
                policy = cache_control(personal=personal, credentials=credentials)
                if policy is not None and "cache-control" not in headers:
                    headers["Cache-Control"] = policy
                for name in CREDENTIAL_HEADERS:
                    headers.add_vary_header(name)
            await send(message)

        await self.app(scope, receive, send_with_policy)
