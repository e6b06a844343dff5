"""The live feed: each issue event a dashboard may see, read from the database in order.

The database is the only source (any API process serves any client, and a reconnecting client
resumes from the last event id it got); each read is one short, bounded query in a session of
its own, so nothing is held open between reads.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session, joinedload

from app.db import Database
from app.models import Agency, Issue, IssueEvent, User, issue_candidate
from app.services import permissions

# Events read at once; a full batch is followed at once by the next, so a client catching up
# gets them as fast as it reads, and never more than one batch is held for it.
BATCH = 100
# Ids the stream still waits for (see `Cursor`); more than this and the oldest are given up.
MAX_PENDING = 1000


class Audience(Protocol):
    """Whom a stream is for: which events they may see."""

    def sees(self) -> ColumnElement[bool]: ...


@dataclass(frozen=True)
class Viewer:
    """Whose feed it is: admins see everything, staff their agency's issues."""

    agency_id: int | None
    is_admin: bool

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(agency_id=user.agency_id, is_admin=permissions.is_admin(user))

    def sees(self) -> ColumnElement[bool]:
        """Events of issues the agency handles or that were routed to it unclaimed, and of
        hand-overs to or from it (of a private report, only while it handles it)."""
        if self.is_admin:
            return true()
        agency = self.agency_id
        routed = exists().where(
            issue_candidate.c.issue_id == Issue.id, issue_candidate.c.agency_id == agency
        )
        return or_(
            Issue.agency_id == agency,
            and_(Issue.agency_id.is_(None), routed),
            and_(
                Issue.is_private.is_(False),
                or_(IssueEvent.from_agency_id == agency, IssueEvent.to_agency_id == agency),
            ),
        )


@dataclass(frozen=True)
class IssueReader:
    """Whoever has an issue's public page open: the public steps of that issue alone."""

    issue_id: int

    def sees(self) -> ColumnElement[bool]:
        return and_(IssueEvent.issue_id == self.issue_id, IssueEvent.is_public.is_(True))


def latest_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(IssueEvent.id))) or 0)


@dataclass(frozen=True)
class Row:
    event: IssueEvent
    issue: Issue  # as it stands now, with its category and agency loaded
    visible: bool


def read_events(
    session: Session, *, viewer: Audience, after_id: int, pending: Iterable[int] = ()
) -> list[Row]:
    """The next committed events after `after_id` (and any of `pending` committed since), in
    id order, each with whether the viewer may see it; at most BATCH. Invisible ones are read
    too, so the stream knows their ids are not missing."""
    wanted = IssueEvent.id > after_id
    pending = list(pending)
    if pending:
        wanted = or_(wanted, IssueEvent.id.in_(pending))
    agency = joinedload(Issue.agency).load_only(
        Agency.id, Agency.slug, Agency.name_th, Agency.name_en, Agency.names
    )
    rows = session.execute(
        select(IssueEvent, Issue, viewer.sees().label("visible"))
        .join(Issue, Issue.id == IssueEvent.issue_id)
        .where(wanted)
        .options(joinedload(Issue.category), agency)
        .order_by(IssueEvent.id)
        .limit(BATCH)
    )
    return [Row(event, issue, bool(visible)) for event, issue, visible in rows]


@dataclass
class Cursor:
    """Where a stream stands: the highest event id read, and lower ids not yet seen.

    Ids are handed out when a transaction writes an event, not when it commits: a slow
    transaction can commit id 10 after id 11 was read. So the ids skipped over stay pending for
    `late_seconds` and are asked for again with every read; an id that never commits (a
    rolled-back change) is given up then."""

    last_id: int
    late_seconds: float
    pending: dict[int, float] = field(default_factory=dict)  # id -> when to give up

    def advance(self, event_id: int, now: float) -> bool:
        """Note an event as read; whether it is in order (False: a late one, below last_id)."""
        if event_id <= self.last_id:
            self.pending.pop(event_id, None)
            return False
        give_up = now + self.late_seconds
        for missing in range(max(self.last_id + 1, event_id - MAX_PENDING), event_id):
            self.pending[missing] = give_up
        self.last_id = event_id
        return True

    def expire(self, now: float) -> None:
        for event_id in [i for i, until in self.pending.items() if until <= now]:
            del self.pending[event_id]
        while len(self.pending) > MAX_PENDING:
            del self.pending[min(self.pending)]


@dataclass(frozen=True)
class Delivery:
    event: IssueEvent
    issue: Issue
    in_order: bool  # False for a late event: it must not move the client's resume point back


async def follow(
    database: Database,
    *,
    viewer: Audience,
    cursor: Cursor,
    poll_seconds: float,
    max_seconds: float,
) -> AsyncIterator[Delivery]:
    """The events the viewer may see, from the cursor on, as they are committed, for
    `max_seconds` (then the client reconnects with its last event id)."""
    end = time.monotonic() + max_seconds
    while time.monotonic() < end:
        rows = await anyio.to_thread.run_sync(_read, database, viewer, cursor)
        now = time.monotonic()
        for row in rows:
            in_order = cursor.advance(row.event.id, now)
            if row.visible:
                yield Delivery(row.event, row.issue, in_order)
        cursor.expire(now)
        if len(rows) < BATCH:
            await anyio.sleep(min(poll_seconds, max(0.0, end - time.monotonic())))


def _read(database: Database, viewer: Audience, cursor: Cursor) -> list[Row]:
    with database.session(write=False) as session:
        return read_events(
            session, viewer=viewer, after_id=cursor.last_id, pending=sorted(cursor.pending)
        )


def start_id(session: Session, last_event_id: int | None) -> int:
    """Where a stream starts: after the client's last event, else after the newest now."""
    return last_event_id if last_event_id is not None else latest_event_id(session)
