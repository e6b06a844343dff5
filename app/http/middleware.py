"""Request hygiene as one pure ASGI layer, outside routing: the whole body read under a
deadline and a size limit before the application runs (app.http.body), and the headers every
answer carries.

Starlette's own limiter answers in plain text from outside the app's error handlers, so the
refusals (408, 413, 400 for a body that is not the JSON it says it is) are written here as
ordinary domain errors.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import DomainError, domain_problem
from app.http import body

# Sent unless the answer sets its own (the API docs page allows its scripts): an API answer is
# data, never a page to run, frame or refer from.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


class RequestHygiene:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _securing(send)
        headers = Headers(scope=scope)
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


def _securing(send: Send) -> Send:
    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS.items():
                headers.setdefault(name, value)
        await send(message)

    return secured
