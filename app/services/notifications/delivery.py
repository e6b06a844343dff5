"""The worker's side of the outbox: claim due messages, render, send, and record the outcome.

Claiming pushes a message's `next_attempt_at` ahead by a lease and commits at once, so the send
happens outside any transaction; a worker that dies mid-batch leaves its messages to reappear
when the lease runs out (delivery is at-least-once; the stable message id lets receivers drop a
repeat). On PostgreSQL, concurrent workers skip each other's rows (FOR UPDATE SKIP LOCKED); on
SQLite the claim runs under BEGIN IMMEDIATE, one writer at a time.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import Database
from app.models import Answer, Channel, Notification, NotificationStatus, PushSubscription, Webhook
from app.models.base import utcnow
from app.services import city
from app.services.notifications import account_mail, outbox, templates
from app.services.notifications.channels import (
    DeliveryError,
    SubscriptionGone,
    email,
    line,
    webhook,
    webpush,
)
from app.services.notifications.channels.outbound import Guard, guarded_client
from app.services.notifications.tokens import FeedbackClaim, LinkSigner, api_link, page_link

log = logging.getLogger(__name__)
T = TypeVar("T")
RATINGS = (1, 2, 3, 4, 5)


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with "equal jitter": half the ceiling fixed, half random, so retries of
    many messages that failed together spread out instead of hitting the receiver at once."""
    ceiling = min(cap, base * 2.0 ** max(attempt - 1, 0))
    return ceiling / 2 + rand() * ceiling / 2


@dataclass(frozen=True)
class Envelope:
    """A claimed message, detached from the session that claimed it."""

    id: int
    message_id: str
    channel: Channel
    destination: str
    reason: str
    template: str
    language: str
    payload: dict[str, Any]
    unsubscribe_ref: str | None
    attempts: int
    recipient_user_id: int | None
    webhook_id: int | None
    webhook_secret: str | None
    push_subscription_id: int | None
    push_keys: tuple[str, str] | None
    created_at: dt.datetime


def claim(database: Database, *, limit: int, lease: dt.timedelta) -> list[Envelope]:
    """Take up to `limit` due messages for this worker for the length of the lease."""
    now = utcnow()
    with database.session(write=True) as session, session.begin():
        ids = list(
            session.scalars(
                select(Notification.id)
                .where(
                    Notification.status == NotificationStatus.pending,
                    Notification.next_attempt_at <= now,
                )
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        session.execute(
            update(Notification)
            .where(Notification.id.in_(ids))
            .values(
                attempts=Notification.attempts + 1,
                next_attempt_at=now + lease,
                updated_at=now,
            )
        )
        rows = session.execute(
            select(Notification, Webhook.secret, PushSubscription.p256dh, PushSubscription.auth)
            .outerjoin(Webhook, Webhook.id == Notification.webhook_id)
            .outerjoin(PushSubscription, PushSubscription.id == Notification.push_subscription_id)
            .where(Notification.id.in_(ids))
            .order_by(Notification.next_attempt_at, Notification.id)
            .execution_options(populate_existing=True)
        ).all()
        payloads = outbox.with_current_words(session, [n for n, *_ in rows])
        return [
            Envelope(
                id=n.id,
                message_id=n.message_id,
                channel=n.channel,
                destination=n.destination,
                reason=n.reason,
                template=n.template,
                language=n.language,
                payload=payloads[n.id],
                unsubscribe_ref=n.unsubscribe_ref,
                attempts=n.attempts,
                recipient_user_id=n.recipient_user_id,
                webhook_id=n.webhook_id,
                webhook_secret=secret,
                push_subscription_id=n.push_subscription_id,
                push_keys=(p256dh, auth) if p256dh and auth else None,
                created_at=n.created_at,
            )
            for n, secret, p256dh, auth in rows
        ]


class Sender:
    """Renders an envelope for its channel and sends it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Dates in messages are the city's; the worker reads its zone before each batch.
        self.zone = settings.display_timezone
        self.signer = LinkSigner(settings.secret_key)
        self.account_links = account_mail.AccountLinks(settings.secret_key)
        self.http = guarded_client(
            Guard(settings.outbound_allow_list), timeout=settings.webhook_timeout_seconds
        )

    def close(self) -> None:
        self.http.close()

    def links(self, envelope: Envelope) -> templates.Links:
        """Every link names the issue's public id and opens its page or a confirmation page
        there; the one-click unsubscribe address (for mail clients) is the API's."""
        base = self.settings.public_base_url
        issue = envelope.payload["issue"]
        public_id = issue["id"]
        unsubscribe = one_click = None
        if envelope.unsubscribe_ref:
            token = self.signer.unsubscribe_token(envelope.unsubscribe_ref)
            unsubscribe = page_link(base, f"/issues/{public_id}/unsubscribe", token=token)
            one_click = api_link(base, "/unsubscribe", token=token)
        answers: dict[str, Any] = {}
        if (
            envelope.reason == "reporter"
            and envelope.payload["event"]["action"] == "resolved"
            and envelope.recipient_user_id is not None
            and issue.get("resolved_at")
        ):
            token = self.signer.feedback_token(
                FeedbackClaim(
                    issue_id=int(issue["pk"]),
                    reporter_id=envelope.recipient_user_id,
                    resolved_at=dt.datetime.fromisoformat(issue["resolved_at"]),
                )
            )
            feedback = f"/issues/{public_id}/feedback"
            answers = {
                "fixed": page_link(base, feedback, token=token, answer=Answer.fixed),
                "not_fixed": page_link(base, feedback, token=token, answer=Answer.not_fixed),
                "ratings": {
                    score: page_link(base, feedback, token=token, rating=score) for score in RATINGS
                },
            }
        return templates.Links(
            issue=page_link(base, f"/issues/{public_id}"),
            unsubscribe=unsubscribe,
            one_click=one_click,
            **answers,
        )

    def reply_to(self, envelope: Envelope) -> str | None:
        """Where a reply to a message about an issue goes: the recipient's own address for it,
        so that `civicloop mail-in` turns the reply into their comment."""
        if not self.settings.reply_domain or envelope.recipient_user_id is None:
            return None
        return self.signer.reply_address(
            self.settings.reply_domain,
            user_id=envelope.recipient_user_id,
            issue_id=int(envelope.payload["issue"]["pk"]),
        )

    def render(self, envelope: Envelope) -> tuple[templates.Rendered, templates.Links | None]:
        if envelope.reason == account_mail.REASON:
            # About a person's account, not an issue: no issue links, nothing to unsubscribe.
            rendered = account_mail.render(
                template=envelope.template,
                language=envelope.language,
                payload=envelope.payload,
                recipient_user_id=envelope.recipient_user_id,
                links=self.account_links,
                public_base_url=self.settings.public_base_url,
            )
            return rendered, None
        links = self.links(envelope)
        rendered = templates.render(
            template=envelope.template,
            language=envelope.language,
            payload=envelope.payload,
            links=links,
            timezone=self.zone,
            auto_close_after=self.settings.auto_close_after,
        )
        return rendered, links

    def send(self, envelope: Envelope) -> None:
        settings = self.settings
        if envelope.channel == Channel.webhook:
            if envelope.webhook_secret is None:
                raise DeliveryError("the webhook was removed", permanent=True)
            body = {
                "id": envelope.message_id,
                "type": f"issue.{envelope.payload['event']['action']}",
                "reason": envelope.reason,
                "created_at": envelope.created_at.isoformat(),
                "data": _public(envelope.payload),
            }
            webhook.post(
                self.http,
                url=envelope.destination,
                secret=envelope.webhook_secret,
                message_id=envelope.message_id,
                body=orjson.dumps(body),
            )
            return
        rendered, links = self.render(envelope)
        if envelope.channel == Channel.email:
            email.send(
                settings,
                email.build(
                    settings,
                    to=envelope.destination,
                    subject=rendered.subject,
                    text=rendered.text,
                    message_id=envelope.message_id,
                    unsubscribe_url=links.one_click if links else None,
                    reply_to=self.reply_to(envelope) if links else None,
                ),
            )
            return
        if links is None:
            raise DeliveryError("account messages go by e-mail only", permanent=True)
        if envelope.channel == Channel.line:
            line.push(
                settings,
                to=envelope.destination,
                text=rendered.text,
                retry_key=envelope.message_id,
            )
            return
        if envelope.push_keys is None:
            raise DeliveryError("the push subscription was removed", permanent=True)
        p256dh, auth = envelope.push_keys
        notice = {
            "id": envelope.message_id,
            "title": rendered.subject,
            "body": rendered.headline,
            "url": links.issue,
            "issue": envelope.payload["issue"]["id"],
        }
        webpush.send(
            self.http,
            endpoint=envelope.destination,
            p256dh=p256dh,
            auth=auth,
            data=orjson.dumps(notice),
            vapid_private_key=settings.vapid_private_key,
            vapid_subject=settings.vapid_subject,
        )


def _public(payload: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without internal keys (the issue's database id)."""
    issue = {k: v for k, v in payload["issue"].items() if k != "pk"}
    return {**payload, "issue": issue}


def _bookkeeping(connection: Connection) -> None:
    """Marks need no fsync of their own: one lost in a server crash only means the message is
    sent again, which at-least-once delivery allows. (SQLite has no such switch.)"""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL synchronous_commit = off"))


def mark_sent(connection: Connection, envelope: Envelope) -> None:
    now = utcnow()
    with connection.begin():
        _bookkeeping(connection)
        connection.execute(
            update(Notification)
            .where(
                Notification.id == envelope.id, Notification.status == NotificationStatus.pending
            )
            .values(status=NotificationStatus.sent, sent_at=now, last_error=None, updated_at=now)
        )


def mark_failed(
    connection: Connection, settings: Settings, envelope: Envelope, error: DeliveryError
) -> bool:
    """Schedule a retry with backoff, or dead-letter it; True when it went to the dead letters."""
    now = utcnow()
    dead = error.permanent or envelope.attempts >= settings.notify_max_attempts
    values: dict[str, Any] = {"last_error": str(error)[:2000], "updated_at": now}
    if dead:
        values["status"] = NotificationStatus.dead
    else:
        delay = backoff_seconds(
            envelope.attempts,
            base=settings.notify_backoff_base_seconds,
            cap=settings.notify_backoff_max_seconds,
        )
        values["next_attempt_at"] = now + dt.timedelta(seconds=delay)
    with connection.begin():
        _bookkeeping(connection)
        connection.execute(
            update(Notification)
            .where(
                Notification.id == envelope.id, Notification.status == NotificationStatus.pending
            )
            .values(**values)
        )
        if isinstance(error, SubscriptionGone) and envelope.push_subscription_id is not None:
            connection.execute(
                delete(PushSubscription).where(PushSubscription.id == envelope.push_subscription_id)
            )
    return dead


def release(connection: Connection, envelopes: list[Envelope]) -> None:
    """Hand claimed but unattempted messages back at once (graceful shutdown)."""
    now = utcnow()
    with connection.begin():
        connection.execute(
            update(Notification)
            .where(
                Notification.id.in_([e.id for e in envelopes]),
                Notification.status == NotificationStatus.pending,
            )
            .values(attempts=Notification.attempts - 1, next_attempt_at=now, updated_at=now)
        )


class Bookkeeper:
    """The worker's connection for marking outcomes. A connection cut after a send is replaced
    and the mark tried once more, so a database blip does not turn into a duplicate."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.connection: Connection | None = None

    def __call__(self, mark: Callable[[Connection], T]) -> T:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = self.database.connect(write=True)
            try:
                return mark(self.connection)
            except DBAPIError as exc:
                self.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, outcome: str) -> None:
        with self.lock:
            setattr(self, outcome, getattr(self, outcome) + 1)


class Worker:
    """One delivery loop sending up to `worker_concurrency` messages at a time (receivers are
    slow, not the CPU). Several workers may run against PostgreSQL; one suffices on SQLite."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        housekeeping: Callable[[], object] | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.sender = Sender(settings)
        self.housekeeping = housekeeping
        self.tally = Tally()
        self.pool = ThreadPoolExecutor(settings.worker_concurrency, thread_name_prefix="deliver")

    def close(self) -> None:
        self.pool.shutdown()
        self.sender.close()

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Claim one batch and work through it; the number of messages claimed."""
        settings = self.settings
        # Past this, the rest of the batch may already be another worker's: leave it to them
        # rather than send it twice (a send may take up to the timeout).
        lease_ends = time.monotonic() + settings.notify_lease_seconds
        batch = claim(
            self.database,
            limit=settings.worker_batch_size,
            lease=dt.timedelta(seconds=settings.notify_lease_seconds),
        )
        if not batch:
            return 0
        with self.database.session(write=False) as session:
            self.sender.zone = city.time_zone(session, fallback=settings.display_timezone).key
        # One bookkeeping connection per sending thread, for this batch.
        local = threading.local()
        bookkeepers: list[Bookkeeper] = []
        longest_send = max(settings.webhook_timeout_seconds, settings.smtp_timeout_seconds)

        def work(envelope: Envelope) -> bool:
            if stop is not None and stop.is_set():
                return False
            if time.monotonic() + longest_send >= lease_ends:
                return False
            if not hasattr(local, "bookkeeper"):
                local.bookkeeper = Bookkeeper(self.database)
                bookkeepers.append(local.bookkeeper)
            self.deliver(local.bookkeeper, envelope)
            return True

        futures = [self.pool.submit(work, envelope) for envelope in batch]
        wait(futures)  # all of them, even when one fails, before their connections are closed
        try:
            attempted = [future.result() for future in futures]  # re-raises a database failure
            left = [e for e, done in zip(batch, attempted, strict=True) if not done]
            if left and stop is not None and stop.is_set():
                with self.database.connect(write=True) as connection:
                    release(connection, left)
            elif left:
                log.warning("lease running out: %d messages left to others", len(left))
        finally:
            for bookkeeper in bookkeepers:
                bookkeeper.close()
        return len(batch)

    def deliver(self, bookkeeper: Bookkeeper, envelope: Envelope) -> None:
        try:
            try:
                self.sender.send(envelope)
            except DeliveryError:
                raise
            except Exception as exc:
                # A message that breaks the sender must not stop the worker or come back forever.
                log.exception("message %s could not be prepared", envelope.message_id)
                raise DeliveryError(f"internal error: {exc!r}", permanent=True) from exc
        except DeliveryError as error:
            dead = bookkeeper(
                functools.partial(
                    mark_failed, settings=self.settings, envelope=envelope, error=error
                )
            )
            self.tally.add("dead" if dead else "retried")
            log.warning(
                "message %s via %s failed (attempt %d, %s): %s",
                envelope.message_id,
                envelope.channel,
                envelope.attempts,
                "dead-lettered" if dead else "will retry",
                error,
            )
            return
        bookkeeper(functools.partial(mark_sent, envelope=envelope))
        self.tally.add("sent")

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set; database outages are waited out, not fatal."""
        next_housekeeping = 0.0
        clock = time.monotonic
        while not stop.is_set():
            try:
                if self.housekeeping is not None and clock() >= next_housekeeping:
                    self.housekeeping()
                    next_housekeeping = clock() + self.settings.auto_close_check_seconds
                claimed = self.run_once(stop)
            except DBAPIError as exc:
                # The pool replaces dead connections (pre-ping); leased rows come back on their own.
                log.warning("database unavailable, retrying: %s", exc.orig)
                stop.wait(self.settings.worker_poll_seconds)
                continue
            if claimed < self.settings.worker_batch_size:
                stop.wait(self.settings.worker_poll_seconds)
