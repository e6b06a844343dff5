"""Request bodies, read whole before the application sees the request: spooled in memory up to
a threshold, then in a temporary file, and replayed to the route. So no dependency, session or
lock is ever held while the client is still sending; and a body declared as JSON is strict
JSON (RFC 8259 as orjson reads it) before anything parses it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

import anyio
import orjson
from fastapi import Request, params
from fastapi.routing import APIRoute
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.types import Message, Receive

from app import i18n
from app.errors import (
    BadRequest,
    MalformedJson,
    PayloadTooLarge,
    PhotoTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

# Bodies up to this size stay in memory; larger ones (photo uploads) go to a temporary file.
SPOOL_MEMORY_BYTES = 1_000_000
REPLAY_CHUNK_BYTES = 64 * 1024
PHOTO_FIELD = "photo"
# GeoReport v2.1's file parts of a POST Service Request (one, or several as media[]).
MEDIA_FIELDS = ("media", "media[]")
# Every part that carries a photo, watched for its size while it arrives.
PHOTO_PARTS = (PHOTO_FIELD, *MEDIA_FIELDS)


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


Watch = Callable[[bytes], None]


async def spool(
    receive: Receive, *, limit: int, seconds: float, watch: Watch | None = None
) -> SpooledBody:
    """Read the whole body within `seconds` from now (a deadline for all of it, not per read: a
    client sending a byte a second is cut off like one sending nothing) and at most `limit`
    bytes; 408 or 413 otherwise. `watch` sees each chunk as it arrives and may refuse it."""
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
                if watch is not None:
                    watch(chunk)
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


async def json_media_type(request: Request) -> None:
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


def photo_name(position: int, filename: str | None) -> i18n.Text:
    """A photo as its sender knows it: by its file name, or by its place among the photos."""
    if filename:
        return i18n.text("error.photo.name_file", position=position, filename=repr(filename))
    return i18n.text("error.photo.name", position=position)


@dataclass
class Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    size: int = 0


class PartReader:
    """Follows a multipart/form-data body part by part, and refuses a photo part the moment it
    passes `max_photo_bytes`. Alone it watches a body while it arrives (so an oversized photo
    is not read whole); app.routers.uploads extends it to collect the parts."""

    def __init__(self, *, max_photo_bytes: int) -> None:
        self.max_photo_bytes = max_photo_bytes
        self.part = Part()
        self.photo_count = 0
        self.header_name = b""
        self.header_value = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self.part = Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.header_name.lower()] = self.header_value
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise BadRequest("Every multipart part needs a Content-Disposition with a name.")
        self.part.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            self.part.filename = options[b"filename"].decode("utf-8", "replace")[:255]

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.part.size += end - start
        if self.part.name in PHOTO_PARTS and self.part.size > self.max_photo_bytes:
            name = photo_name(self.photo_count + 1, self.part.filename)
            raise PhotoTooLarge(
                i18n.text("error.photo.too_large", name=name, mb=f"{self.max_photo_bytes / 1e6:g}"),
                max_bytes=self.max_photo_bytes,
            )

    def on_part_end(self) -> None:
        if self.part.name in PHOTO_PARTS:
            self.photo_count += 1
        self.part = Part()


def boundary_of(headers: Headers) -> bytes | None:
    _, options = parse_options_header(headers.get("content-type", ""))
    boundary: bytes | None = options.get(b"boundary")
    return boundary or None


def photo_watch(headers: Headers, *, max_photo_bytes: int) -> Watch | None:
    """Watches an arriving multipart body for a photo over its limit. A body it cannot follow
    is left to the route that reads it, which says what is wrong with it."""
    boundary = boundary_of(headers)
    if boundary is None:
        return None
    parser = MultipartParser(boundary, PartReader(max_photo_bytes=max_photo_bytes).callbacks())
    lost = False

    def watch(chunk: bytes) -> None:
        nonlocal lost
        if lost:
            return
        try:
            parser.write(chunk)
        except (MultipartParseError, BadRequest):
            lost = True

    return watch
