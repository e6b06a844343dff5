"""Reading the outbox as committed."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage

import httpx
from sqlalchemy import select, update

from app.config import Settings
from app.db import Database
from app.models import Issue, Notification, NotificationStatus
from app.models.base import utcnow
from app.services.notifications.delivery import Tally, Worker
from tests.notifications.receivers import SmtpServer, free_port


def outbox(database: Database, issue_id: str | None = None) -> list[Notification]:
    """Outbox rows committed now, oldest first (optionally of one issue)."""
    with database.session(write=False) as session:
        query = select(Notification).order_by(Notification.id)
        if issue_id is not None:
            query = query.join(Issue, Issue.id == Notification.issue_id).where(
                Issue.public_id == issue_id
            )
        return list(session.scalars(query))


def summary(rows: list[Notification]) -> set[tuple[int | None, str, str, str]]:
    """(recipient, channel, reason, template) of each row."""
    return {(r.recipient_user_id, r.channel.value, r.reason, r.template) for r in rows}


def drain(database: Database, settings: Settings) -> Tally:
    """Run a worker in this process until nothing is due; what it did."""
    worker = Worker(database, settings)
    try:
        while worker.run_once():
            pass
    finally:
        worker.close()
    return worker.tally


def due_now(database: Database) -> None:
    """Make every pending message due at once (skip the backoff wait)."""
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(Notification)
            .where(Notification.status == NotificationStatus.pending)
            .values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
        )


def delivered_mail(database: Database, settings: Settings) -> list[EmailMessage]:
    """Run a worker against a fresh SMTP server on loopback; the messages it received."""
    smtp = SmtpServer(free_port()).start()
    try:
        drain(
            database, settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port})
        )
    finally:
        smtp.stop()
    return smtp.messages


def api_path(url: str) -> str:
    """The path (and query) of an absolute link, to send through the test client."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def page_link(message: EmailMessage, label: str) -> str:
    """The path of the link on the line starting with `label` (e.g. "Stop these messages"): a
    page under the issue's own (tests/web and tests/browser open them)."""
    for line in message.get_content().splitlines():
        if line.strip().startswith(label):
            return api_path(line.rsplit(" ", 1)[-1])
    raise AssertionError(f"no {label!r} link in:\n{message.get_content()}")


def link(message: EmailMessage, label: str) -> str:
    """The API address that describes and takes the same action as the page a message's link
    opens (`/issues/{id}/feedback?…` is `/api/v1/feedback?…`, `/issues/{id}/unsubscribe?…`
    is `/api/v1/unsubscribe?…`, the one-click List-Unsubscribe address)."""
    path = page_link(message, label)
    if path.startswith("/api/v1/"):
        return path  # account messages (sign-up, password reset) link to the API itself
    found = re.fullmatch(r"/issues/[A-Z0-9]+/(feedback|unsubscribe)(\?.*)", path)
    assert found is not None, f"{label!r} links to {path}, not a confirmation page"
    return f"/api/v1/{found[1]}{found[2]}"


async def confirm(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """What a person does with a link from a message: open it (a confirmation, nothing changes)
    and send the POST it describes."""
    shown = await client.get(path)
    assert shown.status_code == 200, shown.text
    confirmation = shown.json()
    assert confirmation["method"] == "POST"
    target = api_path(confirmation["href"])
    if confirmation["content_type"] == "application/json":
        return await client.post(target, json=confirmation["body"])
    return await client.post(target, data=confirmation["body"])
