"""Request-body size limits, counted while the body streams in: JSON up to
CIVICLOOP_MAX_BODY_BYTES, multipart photo uploads up to what the photo limits allow (each photo
is also limited on its own while it is read)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge, domain_problem


class BodyLimitMiddleware:
    """Refuse a body over the limit with a problem+json 413, before or while it is read.

    Starlette's own limiter answers in plain text from outside the app's error handlers, so the
    limit lives here, where the refusal can be an ordinary domain error.
    """

    def __init__(self, app: ASGIApp, *, default: int, multipart: int) -> None:
        self.app = app
        self.default = default
        self.multipart = multipart

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        upload = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        limit = self.multipart if upload == "multipart/form-data" else self.default
        too_large = PayloadTooLarge(
            f"The request body is larger than {limit} bytes.", max_body_bytes=limit
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            # Refused before reading a byte of it.
            await domain_problem(Request(scope), too_large)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised from the app's first body read, so its error handlers answer.
                    raise too_large
            return message

        await self.app(scope, limited_receive, send)
