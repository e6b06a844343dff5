"""Links between the pages of a long list, working without JavaScript: keyset cursors where the
list comes from the issues service (the same cursors as the API's `next_cursor`), page numbers
where a page sorts a short list in memory (the agencies).

A keyset cursor only leads forward, so a page's address also carries the cursors of the pages
before it (`trail`): its "previous" link is the last of them, and a reader can go back and
forth without a session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request

AFTER, TRAIL, PAGE = "after", "trail", "page"
# Not in a cursor's alphabet (URL-safe base64 and dots).
TRAIL_SEPARATOR = ","


@dataclass(frozen=True)
class Pager:
    """Where this page is in its list, and the addresses of its neighbours (None at an end)."""

    number: int
    previous: str | None
    next: str | None


def _address(request: Request, path: str | None, **position: str | int | None) -> str:
    """The address of the list's page at `position`, with this request's filters, sort and
    language; at `path`, or this request's own (a part of a page may be read on its own)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in (AFTER, TRAIL, PAGE)]
    query = urlencode([*kept, *((k, v) for k, v in position.items() if v)])
    path = path or request.url.path
    return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class KeysetPosition:
    """Which page of a keyset list is asked for: after this cursor, with the ones before it."""

    after: str | None
    trail: tuple[str, ...]

    def pager(self, request: Request, next_cursor: str | None, *, path: str | None = None) -> Pager:
        if self.after is None:
            return Pager(
                1, None, _address(request, path, after=next_cursor) if next_cursor else None
            )
        # Back: the page this one's cursor came from, after the last cursor of the trail (or
        # the first page when the trail is empty).
        previous = _address(
            request,
            path,
            after=self.trail[-1] if self.trail else None,
            trail=TRAIL_SEPARATOR.join(self.trail[:-1]),
        )
        forward = TRAIL_SEPARATOR.join((*self.trail, self.after))
        return Pager(
            number=len(self.trail) + 2,
            previous=previous,
            next=_address(request, path, after=next_cursor, trail=forward) if next_cursor else None,
        )


def keyset_position(
    after: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    trail: Annotated[str | None, Query(max_length=20_000)] = None,
) -> KeysetPosition:
    cursors = tuple(c for c in (trail or "").split(TRAIL_SEPARATOR) if c)
    return KeysetPosition(after, cursors if after is not None else ())


KeysetDep = Annotated[KeysetPosition, Depends(keyset_position)]
PageNumber = Annotated[int, Query(alias=PAGE, ge=1, le=100_000)]


def numbered_pager(request: Request, *, number: int, size: int, total: int) -> Pager:
    """The pager of page `number` of `total` items, `size` to a page."""
    return Pager(
        number=number,
        previous=_address(request, None, page=number - 1 if number > 2 else None)
        if number > 1
        else None,
        next=_address(request, None, page=number + 1) if number * size < total else None,
    )
