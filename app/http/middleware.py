"""Request hygiene as one pure ASGI layer, outside routing: the body size limit and the headers
every answer carries."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge, domain_problem

# Sent unless the answer sets its own (the API docs page allows its scripts): an API answer is
# data, never a page to run, frame or refer from.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


class RequestHygiene:
    """Refuses a body over the limit with a problem+json 413, before or while it is read, and
    adds the security headers.

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
        send = _securing(send)
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


def _securing(send: Send) -> Send:
    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS.items():
                headers.setdefault(name, value)
        await send(message)

    return secured
