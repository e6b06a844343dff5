"""Everything done around every request, as one pure ASGI layer outside routing: its request id,
HEAD answered as GET, the whole body read under a deadline and a size limit before the
application runs (app.http.body), the headers every answer carries (security, cache policy,
request id), and the request's metrics.

One layer instead of one per concern: each layer wraps `receive` and `send` again and walks the
headers again, which on a small answer costs as much as the route. The route template the
metrics name is the one routing chose (`scope["route"]`), never matched a second time.

Starlette's own limiter answers in plain text from outside the app's error handlers, so the
refusals (408, 413, 400 for a body that is not the JSON it says it is) are written here as
ordinary domain errors.
"""

from __future__ import annotations

import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import observability
from app.config import Settings
from app.errors import DomainError, domain_problem
from app.http import body, caching, methods

# Sent unless the answer sets its own (the API docs page allows its scripts): an API answer is
# data, never a page to run, frame or refer from.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
# An answer the application never started (it raised): counted as the 500 the client gets.
UNANSWERED = 500


class RequestHygiene:
    def __init__(
        self, app: ASGIApp, *, settings: Settings, metrics: observability.RequestMetrics
    ) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        request_id = observability.accept_request_id(headers.get("x-request-id"))
        credentials = any(name in headers for name in caching.CREDENTIAL_HEADERS)
        # Routing marks the scope it is given: for a HEAD that is its GET copy, read back below.
        routed = scope
        if scope["method"] == "HEAD":
            routed, receive, send = methods.head_as_get(scope, receive, send)
        status = UNANSWERED

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    out.setdefault(name, value)
                caching.apply_policy(
                    out, personal=caching.is_personal(routed), credentials=credentials
                )
                out.append(observability.REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self._serve(routed, headers, receive, answer)
        finally:
            self.metrics.observe(
                scope["method"], routed.get("route"), status, time.perf_counter() - started
            )

    async def _serve(self, scope: Scope, headers: Headers, receive: Receive, send: Send) -> None:
        if not body.has_body(headers):
            await self.app(scope, receive, send)
            return
        try:
            spooled = await self._read(headers, receive)
        except DomainError as refused:
            await domain_problem(Request(scope), refused)(scope, receive, send)
            return
        except body.ClientGone:
            return
        try:
            await self.app(scope, spooled.replay(receive), send)
        finally:
            spooled.close()

    async def _read(self, headers: Headers, receive: Receive) -> body.SpooledBody:
        watch = None
        if body.media_type(headers) == "multipart/form-data":
            limit, seconds = self.settings.upload_max_bytes, self.settings.upload_timeout_seconds
            watch = body.photo_watch(headers, max_photo_bytes=self.settings.photo_max_bytes)
        else:
            limit, seconds = self.settings.max_body_bytes, self.settings.body_timeout_seconds
        too_large = body.declared_too_large(headers, limit)
        if too_large is not None:
            raise too_large
        spooled = await body.spool(receive, limit=limit, seconds=seconds, watch=watch)
        if body.is_json(headers.get("content-type", "")):
            try:
                body.check_json(spooled.bytes())
            except DomainError:
                spooled.close()
                raise
        return spooled
