"""The request-body size limit (CIVICLOOP_MAX_BODY_BYTES), counted while the body streams in."""

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

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is larger than {self.max_body_bytes} bytes.",
            max_body_bytes=self.max_body_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            # Refused before reading a byte of it.
            await domain_problem(Request(scope), self._too_large())(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Raised from the app's first body read, so its error handlers answer.
                    raise self._too_large()
            return message

        await self.app(scope, limited_receive, send)
