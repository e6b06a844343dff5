"""Request bodies, read whole before the application sees the request: spooled in memory up to
a threshold, then in a temporary file, and replayed to the route. So no dependency, session or
lock is ever held while the client is still sending; and a body declared as JSON is strict
JSON (RFC 8259 as orjson reads it) before anything parses it."""

from __future__ import annotations

import tempfile
from typing import IO

import anyio
import orjson
from fastapi import Request, params
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import Message, Receive

from app import i18n
from app.errors import MalformedJson, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

# Bodies up to this size stay in memory; larger ones (photo uploads) go to a temporary file.
SPOOL_MEMORY_BYTES = 1_000_000
REPLAY_CHUNK_BYTES = 64 * 1024


class ClientGone(Exception):
    """The client disconnected before its body was complete: there is no one to answer."""


def media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def check_json(raw: bytes) -> None:
    """Refuse what is not strict JSON (orjson's reading of RFC 8259) with a 400 naming where."""
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(f"The request body is not valid JSON: {exc}.") from None


class SpooledBody:
    """A whole request body, replayed to the application as the ASGI messages it expects."""

    def __init__(self, file: IO[bytes], size: int) -> None:
        self.file = file
        self.size = size

    def bytes(self) -> bytes:
        self.file.seek(0)
        data = self.file.read()
        self.file.seek(0)
        return data

    def replay(self, receive: Receive) -> Receive:
        """The body again, chunk by chunk; after it, the client's own messages (a disconnect)."""
        self.file.seek(0)
        sent = False

        async def replayed() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            chunk = self.file.read(REPLAY_CHUNK_BYTES)
            more = self.file.tell() < self.size
            sent = not more
            return {"type": "http.request", "body": chunk, "more_body": more}

        return replayed

    def close(self) -> None:
        self.file.close()


async def spool(receive: Receive, *, limit: int, seconds: float) -> SpooledBody:
    """Read the whole body within `seconds` from now (a deadline for all of it, not per read: a
    client sending a byte a second is cut off like one sending nothing) and at most `limit`
    bytes; 408 or 413 otherwise."""
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115 (returned)
    size = 0
    try:
        with anyio.fail_after(seconds):
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                file.write(chunk)
                more = message.get("more_body", False)
    except TimeoutError:
        file.close()
        raise RequestTimeout(i18n.text("error.body.timeout", seconds=f"{seconds:g}")) from None
    except BaseException:
        file.close()
        raise
    return SpooledBody(file, size)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than {limit} bytes.", max_body_bytes=limit)


def declared_too_large(headers: Headers, limit: int) -> PayloadTooLarge | None:
    """A body whose declared length is over the limit: refused before a byte of it is read."""
    declared = headers.get("content-length", "")
    return _too_large(limit) if declared.isdigit() and int(declared) > limit else None


def json_media_type(request: Request) -> None:
    """A route that takes a JSON body refuses another media type with 415 (FastAPI would
    validate the raw bytes instead, and answer 422 for a body that may well be right)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    if isinstance(route.body_field.field_info, params.Form):
        return
    if has_body(request.headers) and not is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "Send the body as JSON with the header 'Content-Type: application/json'."
        )
