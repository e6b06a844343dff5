"""Who is told of a change, on which channels: outbox rows in the change's own transaction.

Nothing here touches the network. Each row is one message to one destination, with a snapshot
of what to say; the worker (`delivery.py`) renders and sends it later, with the words people
wrote read again then (`with_current_words`), so a redaction reaches messages already queued.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Agency,
    Category,
    Channel,
    Comment,
    ContactNeed,
    EventAction,
    Follow,
    Issue,
    IssueEvent,
    LineContact,
    Notification,
    NotificationPreference,
    PushSubscription,
    Role,
    User,
    Webhook,
    issue_candidate,
)
from app.models.base import utcnow
from app.services import priorities, timeframes
from app.services.notifications import areas
from app.services.notifications.templates import EASY_READ

# Edits (and redactions) change words, not where the issue stands: followers are not told of
# them. Nor of each
# "me too": a popular issue would flood its followers; the count shows on the issue instead.
SILENT_ACTIONS = frozenset(
    {EventAction.edited, EventAction.supported, EventAction.rerouted, EventAction.redacted}
)
# Whoever comments knows what they wrote, a citizen too (other steps send them a receipt).
NOT_TO_ACTOR = frozenset({EventAction.commented})
# A report becomes public when made, or (a category reviewed first) when staff approve it.
PUBLISHING = frozenset({EventAction.reported, EventAction.review_approved})
# Events that carry a public comment: a comment, or a reporter's answer with words of theirs.
COMMENT_CARRIERS = frozenset({EventAction.commented, EventAction.reopened, EventAction.closed})


class Reason:
    reporter = "reporter"
    follower = "follower"
    watcher = "watcher"
    agency = "agency"
    # The handling agency's staff, when someone outside it (the reporter) reopens the issue.
    disputed = "disputed"
    assignee = "assignee"
    webhook = "webhook"


# Which message each kind of recipient gets.
TEMPLATE_OF = {
    Reason.reporter: "issue_update",
    Reason.follower: "issue_update",
    Reason.agency: "agency_new_issue",
    Reason.disputed: "agency_reopened",
    Reason.watcher: "area_new_issue",
    Reason.assignee: "issue_assigned",
    Reason.webhook: "webhook_event",
}


@dataclass(frozen=True)
class Audience:
    """One person to tell, why, and what a one-click unsubscribe in their message ends."""

    user_id: int
    reason: str
    unsubscribe_ref: str


@dataclass(frozen=True)
class Written:
    """What the caller has just written beside a new report, so not read back: the agencies it
    was routed to and its follows (flushed, so they have their ids)."""

    candidates: Sequence[int]
    follows: Sequence[Follow]


def enqueue_for_event(
    session: Session,
    *,
    issue: Issue,
    event: IssueEvent,
    actor: User | None,
    written: Written | None = None,
) -> list[Notification]:
    """Queue every message this event causes; called by `lifecycle.record_event` only."""
    if event.action in SILENT_ACTIONS:
        return []
    receiving = _receiving_agencies(session, issue, event, written)
    staff = _alerted_staff(session, receiving)
    audience = _audience(session, issue, event, actor, staff, written)
    payload = snapshot(session, issue, event)
    involved = {*receiving, *(a for a in (issue.agency_id, event.from_agency_id) if a is not None)}
    # Users already in hand (the actor, the staff just read) are not read again.
    known = [*staff, *([actor] if actor is not None and actor in session else [])]
    rows = [
        *_user_rows(session, audience, known, issue, event, payload),
        *_webhook_rows(session, involved, issue, event, payload),
    ]
    session.add_all(rows)
    return rows


def _audience(
    session: Session,
    issue: Issue,
    event: IssueEvent,
    actor: User | None,
    staff: list[User],
    written: Written | None,
) -> list[Audience]:
    found: dict[int, Audience] = {}
    if event.is_public:
        follows = (
            sorted((f.id, f.user_id) for f in written.follows)
            if written is not None
            else session.execute(
                select(Follow.id, Follow.user_id)
                .where(Follow.issue_id == issue.id)
                .order_by(Follow.id)
            ).all()
        )
        for follow_id, user_id in follows:
            reason = Reason.reporter if user_id == issue.reporter_id else Reason.follower
            found[user_id] = Audience(user_id, reason, f"follow:{follow_id}")
    for user in staff:
        found.setdefault(user.id, Audience(user.id, Reason.agency, f"alerts:{user.id}"))
    if (
        event.action == EventAction.reopened
        and issue.agency_id is not None
        and (actor is None or actor.agency_id != issue.agency_id)
    ):
        # "Not fixed" must reach whoever has to go back: the staff following the agency's
        # queue hear of it in a message of their own, followers of the issue or not.
        for user in _alerted_staff(session, [issue.agency_id]):
            found[user.id] = Audience(user.id, Reason.disputed, f"alerts:{user.id}")
    if event.action == EventAction.assigned and event.assignee_id is not None:
        # Told even though the event is internal (the actor who took it for themselves is not);
        # an agency alert, so the same one-click unsubscribe ends it.
        muted = session.scalar(
            select(NotificationPreference.agency_alerts.is_(False)).where(
                NotificationPreference.user_id == event.assignee_id
            )
        )
        if not muted:
            found[event.assignee_id] = Audience(
                event.assignee_id, Reason.assignee, f"alerts:{event.assignee_id}"
            )
    # Area watchers hear of public reports only: when made, or when published after review.
    if event.action in PUBLISHING and not issue.is_restricted:
        for watch in areas.watches_covering(
            session, point=issue.location, category_id=issue.category_id
        ):
            found.setdefault(
                watch.user_id, Audience(watch.user_id, Reason.watcher, f"watch:{watch.id}")
            )
    # Staff and admins know what they just did; a reporter still gets a receipt of their own step.
    if (
        actor is not None
        and actor.id in found
        and (actor.role.is_staff or actor.role == Role.admin or event.action in NOT_TO_ACTOR)
    ):
        del found[actor.id]
    return list(found.values())


def _alerted_staff(session: Session, agency_ids: Sequence[int]) -> list[User]:
    """Active staff of these agencies who have not turned their agency's alerts off."""
    if not agency_ids:
        return []
    return list(
        session.scalars(
            select(User)
            .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
            .where(
                User.agency_id.in_(agency_ids),
                User.role.in_((Role.agent, Role.manager)),
                User.is_active,
                NotificationPreference.agency_alerts.is_not(False),
            )
            .order_by(User.id)
        )
    )


def _receiving_agencies(
    session: Session, issue: Issue, event: IssueEvent, written: Written | None
) -> list[int]:
    """Agencies whose queue just gained the issue (or a step to take on it): a report's
    candidates, a transfer's target, the handling agency when a contractor reports done."""
    if event.action == EventAction.reported:
        if written is not None:
            return list(written.candidates)
        return list(
            session.scalars(
                select(issue_candidate.c.agency_id).where(issue_candidate.c.issue_id == issue.id)
            )
        )
    if event.action == EventAction.transferred and event.to_agency_id is not None:
        return [event.to_agency_id]
    if event.action == EventAction.work_done and issue.agency_id is not None:
        # The contractor's "done" waits for the agency to confirm it: its queue must hear.
        return [issue.agency_id]
    return []


def _user_rows(
    session: Session,
    audience: list[Audience],
    known: list[User],
    issue: Issue,
    event: IssueEvent,
    payload: dict[str, Any],
) -> Iterable[Notification]:
    if not audience:
        return
    ids = [a.user_id for a in audience]
    users = {u.id: u for u in known if u.id in ids and u.is_active}
    missing = [i for i in ids if i not in users]
    if missing:
        users.update(
            (u.id, u)
            for u in session.scalars(select(User).where(User.id.in_(missing), User.is_active))
        )
    prefs = {
        p.user_id: p
        for p in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id.in_(ids))
        )
    }
    pushes: dict[int, list[PushSubscription]] = {}
    for sub in session.scalars(
        select(PushSubscription)
        .where(PushSubscription.user_id.in_(ids))
        .order_by(PushSubscription.id)
    ):
        pushes.setdefault(sub.user_id, []).append(sub)
    hooks: dict[int, list[Webhook]] = {}
    for hook in session.scalars(
        select(Webhook)
        .where(Webhook.owner_id.in_(ids), Webhook.agency_id.is_(None), Webhook.is_active)
        .order_by(Webhook.id)
    ):
        hooks.setdefault(hook.owner_id, []).append(hook)
    # Residents who reported through LINE are answered in their chat.
    chats: dict[int, str] = dict(
        session.execute(
            select(LineContact.user_id, LineContact.line_user_id).where(
                LineContact.user_id.in_(ids)
            )
        ).all()
    )
    for who in audience:
        user = users.get(who.user_id)
        if user is None:
            continue
        pref = prefs.get(user.id)
        row = functools.partial(
            _row,
            issue,
            event,
            payload,
            reason=who.reason,
            language=user.language.value,
            recipient_user_id=user.id,
            unsubscribe_ref=who.unsubscribe_ref,
            # Their stated need shapes what is said to them, on every channel.
            template=TEMPLATE_OF[who.reason]
            + (EASY_READ if ContactNeed.easy_read in user.contact_needs else ""),
        )
        # An address not yet verified hears nothing (it gets the verification message only).
        if user.mail_to and (pref is None or pref.email):
            yield row(channel=Channel.email, destination=user.mail_to)
        if pref is None or pref.webpush:
            for sub in pushes.get(user.id, []):
                yield row(
                    channel=Channel.webpush, destination=sub.endpoint, push_subscription_id=sub.id
                )
        if user.id in chats:
            yield row(channel=Channel.line, destination=chats[user.id])
        if pref is None or pref.webhook:
            for hook in hooks.get(user.id, []):
                yield row(channel=Channel.webhook, destination=hook.url, webhook_id=hook.id)


def _webhook_rows(
    session: Session,
    agencies: set[int],
    issue: Issue,
    event: IssueEvent,
    payload: dict[str, Any],
) -> Iterable[Notification]:
    """Agencies' systems hear of every step of issues they receive, handle or hand over."""
    if not agencies:
        return
    for hook in session.scalars(
        select(Webhook)
        .where(Webhook.agency_id.in_(agencies), Webhook.is_active)
        .order_by(Webhook.id)
    ):
        yield _row(
            issue,
            event,
            payload,
            channel=Channel.webhook,
            destination=hook.url,
            reason=Reason.webhook,
            language="en",
            webhook_id=hook.id,
        )


def _row(
    issue: Issue,
    event: IssueEvent,
    payload: dict[str, Any],
    *,
    channel: Channel,
    destination: str,
    reason: str,
    language: str,
    recipient_user_id: int | None = None,
    webhook_id: int | None = None,
    push_subscription_id: int | None = None,
    unsubscribe_ref: str | None = None,
    template: str | None = None,
) -> Notification:
    now = utcnow()
    return Notification(
        message_id=str(uuid.uuid4()),
        issue_id=issue.id,
        event=event,
        recipient_user_id=recipient_user_id,
        webhook_id=webhook_id,
        push_subscription_id=push_subscription_id,
        channel=channel,
        destination=destination,
        reason=reason,
        template=template or TEMPLATE_OF[reason],
        language=language,
        payload=payload,
        unsubscribe_ref=unsubscribe_ref,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot(session: Session, issue: Issue, event: IssueEvent) -> dict[str, Any]:
    """What the message says, as things stand at this change (JSON-ready)."""
    category = session.get(Category, issue.category_id)
    assert category is not None
    agency = None
    if issue.agency_id is not None:
        row = session.execute(
            select(Agency.id, Agency.slug, Agency.name_th, Agency.name_en).where(
                Agency.id == issue.agency_id
            )
        ).one()
        agency = {"id": row.id, "slug": row.slug, "name_th": row.name_th, "name_en": row.name_en}
    return {
        "issue": {
            "pk": issue.id,
            "id": issue.public_id,
            "title": issue.title,
            "category": {
                "code": category.code,
                "name_th": category.name_th,
                "name_en": category.name_en,
            },
            "status": issue.status.value,
            "resolution": issue.resolution.value if issue.resolution else None,
            "priority": issue.priority.value,
            "agency": agency,
            "latitude": issue.location.lat,
            "longitude": issue.location.lon,
            "acknowledge_due_at": _iso(issue.acknowledge_due_at),
            "resolve_due_at": _iso(issue.resolve_due_at),
            "resolved_at": _iso(issue.resolved_at),
        },
        "event": {
            "action": event.action.value,
            "from_status": event.from_status.value if event.from_status else None,
            "to_status": event.to_status.value,
            # What a person wrote, as written; what the system says, as its catalog key.
            "note": event.note if event.is_public else None,
            "message": {"key": event.message_key, "params": event.message_params}
            if event.message_key
            else None,
            # A public comment's text as it was written (notes never leave the agency): the
            # comment of a `commented` event, or the reporter's words with their answer.
            "comment": _public_comment(session, event),
            "verdict": _verdict(session, issue, event),
            "is_public": event.is_public,
            "actor_role": event.actor_role,
            "at": _iso(event.created_at),
            # The other issue of a merge: the canonical one, or the duplicate merged in.
            "related_issue": session.scalar(
                select(Issue.public_id).where(Issue.id == event.related_issue_id)
            )
            if event.related_issue_id is not None
            else None,
        },
    }


def with_current_words(
    session: Session, notifications: Sequence[Notification]
) -> dict[int, dict[str, Any]]:
    """Each message's payload with the words people wrote as they read now: a title or comment
    redacted (or edited) after the message was queued is sent as redacted, never as it was.
    Where the issue stands stays as at the change. Keyed by notification id."""
    about = {n.id: n for n in notifications if "pk" in n.payload.get("issue", {})}
    titles: dict[int, str] = dict(
        session.execute(
            select(Issue.id, Issue.title).where(
                Issue.id.in_({int(n.payload["issue"]["pk"]) for n in about.values()})
            )
        ).all()
    )
    quoting = {
        n.event_id for n in about.values() if n.event_id and n.payload["event"].get("comment")
    }
    comments: dict[int, str] = dict(
        session.execute(
            select(IssueEvent.id, Comment.body)
            .join(Comment, Comment.id == IssueEvent.comment_id)
            .where(IssueEvent.id.in_(quoting), Comment.is_internal.is_(False))
        ).all()
    )
    payloads = {n.id: n.payload for n in notifications}
    for notification_id, n in about.items():
        issue = n.payload["issue"]
        event = n.payload["event"]
        payloads[notification_id] = {
            **n.payload,
            "issue": {**issue, "title": titles.get(int(issue["pk"]), issue["title"])},
            # A quoted comment since removed or made internal is not quoted at all.
            "event": {
                **event,
                "comment": comments.get(n.event_id) if n.event_id in quoting else None,
            },
        }
    return payloads


def _verdict(session: Session, issue: Issue, event: IssueEvent) -> dict[str, str] | None:
    """How the step this event completed compared with its time frame."""
    if event.action == EventAction.claimed and issue.acknowledged_at is not None:
        step, done, due = "acknowledge", issue.acknowledged_at, issue.acknowledge_due_at
    elif event.action == EventAction.resolved and issue.resolved_at is not None:
        step, done, due = "resolve", issue.resolved_at, issue.resolve_due_at
    else:
        return None
    outcome = timeframes.verdict(
        reported_at=issue.created_at,
        done_at=done,
        due_at=due,
        at_risk_percent=priorities.get_rules(session).at_risk_percent,
    )
    return {"step": step, "outcome": outcome.value, "due_at": due.isoformat()}


def _public_comment(session: Session, event: IssueEvent) -> str | None:
    if event.comment_id is None or event.action not in COMMENT_CARRIERS:
        return None
    return session.scalar(
        select(Comment.body).where(Comment.id == event.comment_id, Comment.is_internal.is_(False))
    )
