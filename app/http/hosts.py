"""The Host allow-list (CIVICLOOP_ALLOWED_HOSTS): a request naming another host is refused.

Links never come from the Host header (see `links`), but caches, logs and anything downstream
still key on it; in production only the public host is served."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app import i18n
from app.errors import HostNotAllowed, domain_problem

# Orchestrators probe by address (Docker's 127.0.0.1, a pod's IP): probes answer any Host.
PROBES = frozenset({"/healthz", "/readyz"})


def host_name(header: str) -> str | None:
    """The name in a Host header, without port or IPv6 brackets, lower-cased."""
    try:
        return urlsplit(f"//{header}").hostname
    except ValueError:
        return None


class AllowedHostsMiddleware:
    def __init__(self, app: ASGIApp, *, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("host", "")
        if host_name(header) in self.hosts:
            await self.app(scope, receive, send)
            return
        refused = HostNotAllowed(i18n.text("error.host_not_allowed", host=header[:255]))
        await domain_problem(Request(scope), refused)(scope, receive, send)
