"""The live feed of new issues and their events, as Server-Sent Events, for dashboards."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.types import Receive, Scope, Send

from app import i18n
from app.config import Settings
from app.deps import SessionDep, SettingsDep, require_role
from app.errors import ValidationFailed, answers, problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Role, User
from app.models.base import MAX_ID
from app.schemas.issue import AgencyRef, CategoryRef
from app.schemas.problem import FieldProblem
from app.schemas.work import FeedEvent, FeedIssue
from app.services import feed

log = logging.getLogger(__name__)
FEED_EVENT_SCHEMA = "#/components/schemas/FeedEvent"  # added to the document by app.main

router = APIRouter(tags=["work"], route_class=UnitOfWorkRoute)

Watcher = Annotated[User, require_role(Role.agent, Role.manager, Role.admin)]

FEED_DESCRIPTION = """A `text/event-stream` (Server-Sent Events) of new issues and of every
change to the issues you may see: staff see their agency's issues (those it handles, those
routed to it and not yet claimed, and hand-overs to or from it, internal steps included);
admins see everything. It starts with what happens after you connect, or after the event you
name.

Each message is
```
id: 1234
data: {"id": 1234, "action": "claimed", "to_status": "acknowledged", ..., "issue": {...}}
```
with one JSON object (the `FeedEvent` schema) on its `data:` line and no `event:` line (so
`EventSource.onmessage` gets it). `id:` is the event's id: on reconnecting, a browser sends it
back as `Last-Event-ID` and gets every event it missed, from the database, then the live ones.
Clients that cannot set headers pass `?last_event_id=`; the header wins when both are sent (a
reconnecting browser sends the header with the page's original URL). A message without `id:`
is an event that committed late, below the last id sent: it does not move the resume point.
Lines starting with `:` are heartbeats (every `CIVICLOOP_FEED_HEARTBEAT_SECONDS`). A stream
ends after `CIVICLOOP_FEED_MAX_SECONDS`, and a client that stops reading is dropped after
`CIVICLOOP_FEED_SEND_TIMEOUT_SECONDS`; either way it reconnects with its last id."""


@answers(422)
def last_event_id(
    last_event_id_header: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=32,
            description="The id of the last message received; sent by browsers on reconnect.",
        ),
    ] = None,
    last_event_id: Annotated[
        int | None,
        Query(ge=0, le=MAX_ID, description="As Last-Event-ID, for clients without headers."),
    ] = None,
) -> int | None:
    if last_event_id_header is None or not last_event_id_header.strip():
        return last_event_id
    value = last_event_id_header.strip()
    if not value.isdigit() or int(value) > MAX_ID:
        raise ValidationFailed(
            i18n.text("feed.invalid_last_event_id", value=value),
            errors=[
                FieldProblem(
                    location="header.Last-Event-ID", message="not an event id", code="invalid"
                )
            ],
        )
    return int(value)


class FeedResponse(EventSourceResponse):
    """Drops a client that stops reading: its send times out, and it is told nothing more."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        # A group when a message and a heartbeat both timed out.
        except* SendTimeoutError:
            log.warning("feed: dropped a client that stopped reading (%s)", scope.get("client"))


def _message(delivery: feed.Delivery) -> str:
    event, issue = delivery.event, delivery.issue
    data = FeedEvent(
        id=event.id,
        at=event.created_at,
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        resolution=event.resolution,
        note=event.note,
        is_public=event.is_public,
        actor_role=event.actor_role,
        actor_agency_id=event.actor_agency_id,
        from_agency_id=event.from_agency_id,
        to_agency_id=event.to_agency_id,
        assignee_id=event.assignee_id,
        issue=FeedIssue(
            id=issue.public_id,
            title=issue.title,
            category=CategoryRef.of(issue.category),
            status=issue.status,
            priority=issue.priority,
            agency=AgencyRef.of(issue.agency),
            assignee_id=issue.assignee_id,
            acknowledge_due_at=issue.acknowledge_due_at,
            resolve_due_at=issue.resolve_due_at,
            latitude=issue.location.lat,
            longitude=issue.location.lon,
        ),
    )
    return data.model_dump_json()


@router.get(
    "/feed",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {
                "text/event-stream": {"schema": {"$ref": "#/components/schemas/FeedEvent"}}
            },
            "description": "The stream; each `data:` line is one FeedEvent.",
        },
        **problem_responses(401, 403, 422),
    },
    summary="Live feed of new issues and events (Server-Sent Events)",
    description=FEED_DESCRIPTION,
)
def stream_feed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: Watcher,
    after: Annotated[int | None, Depends(last_event_id)],
) -> FeedResponse:
    return feed_response(request, session, settings, user=user, after=after)


def feed_response(
    request: Request, session: Session, settings: Settings, *, user: User, after: int | None
) -> FeedResponse:
    """The stream of what `user` may see after event `after` (also the agency desk's)."""
    return stream_events(
        request, session, settings, audience=feed.Viewer.of(user), after=after, message=_message
    )


def stream_events(
    request: Request,
    session: Session,
    settings: Settings,
    *,
    audience: feed.Audience,
    after: int | None,
    message: Callable[[feed.Delivery], str],
) -> FeedResponse:
    """The stream of the events `audience` may see after event `after`, each message's data
    written by `message`."""
    cursor = feed.Cursor(
        last_id=feed.start_id(session, after), late_seconds=settings.feed_late_event_seconds
    )

    async def messages() -> AsyncIterator[ServerSentEvent]:
        async for delivery in feed.follow(
            request.app.state.database,
            viewer=audience,
            cursor=cursor,
            poll_seconds=settings.feed_poll_seconds,
            max_seconds=settings.feed_max_seconds,
        ):
            event_id = str(delivery.event.id) if delivery.in_order else None
            yield ServerSentEvent(message(delivery), id=event_id)

    # The request's session is committed (its connection returned) before the stream starts;
    # every read while streaming takes a short session of its own.
    headers: dict[str, Any] = {"Cache-Control": "no-store"}
    return FeedResponse(
        messages(),
        headers=headers,
        ping=settings.feed_heartbeat_seconds,
        send_timeout=settings.feed_send_timeout_seconds,
    )
