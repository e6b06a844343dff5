"""Reading the outbox as committed."""

from __future__ import annotations

from sqlalchemy import select

from app.db import Database
from app.models import Issue, Notification


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
