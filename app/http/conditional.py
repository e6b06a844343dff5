"""Conditional GET for lists: a weak ETag over what a page shows, 304 when the client has it.

A page is the same to its reader when it lists the same issues (or entries) at the same
versions, in the same order, with the same next cursor, in the same representation (JSON or
GeoJSON) and language. Names of categories and agencies are not versioned, so the tag is weak
(RFC 9110 §8.8.1): equivalent, not byte-identical. Every answer already varies by the credential
headers, so a cache keeps one copy per caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app import i18n


def weak_etag(entries: Iterable[object], *, variant: str, next_cursor: str | None = None) -> str:
    """The page's validator: `entries` are whatever identifies each row and its state."""
    digest = hashlib.sha256(
        orjson.dumps([variant, i18n.current().value, next_cursor, list(entries)], default=str)
    ).hexdigest()
    return f'W/"{digest[:32]}"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def none_match(request: Request, etag: str) -> bool:
    """Whether If-None-Match names this page (weak comparison, RFC 9110 §13.1.2)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return _opaque(etag) in {_opaque(tag) for tag in header.split(",")}


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag})
