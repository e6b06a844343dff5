"""Following issues, and the one-click unsubscribe every message carries."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import i18n
from app.models import AreaWatch, Follow, Issue, NotificationPreference, User


def follow(session: Session, *, issue: Issue, user: User) -> Follow:
    """Follow an issue (again is a no-op): its public steps reach the follower from now on."""
    existing = session.scalar(
        select(Follow).where(Follow.issue_id == issue.id, Follow.user_id == user.id)
    )
    if existing is not None:
        return existing
    row = Follow(issue_id=issue.id, user_id=user.id)
    session.add(row)
    session.flush()
    return row


def unfollow(session: Session, *, issue: Issue, user: User) -> None:
    """Stop following (not following is fine too: the outcome is the same)."""
    session.execute(delete(Follow).where(Follow.issue_id == issue.id, Follow.user_id == user.id))


def is_following(session: Session, *, issue: Issue, user: User | None) -> bool:
    return user is not None and (
        session.scalar(
            select(Follow.id).where(Follow.issue_id == issue.id, Follow.user_id == user.id)
        )
        is not None
    )


def describe_unsubscribe(ref: str) -> i18n.Text:
    """What unsubscribing with this reference would end, asked before it is done."""
    return i18n.text(f"notify.unsubscribe.ask.{ref.partition(':')[0]}")


def unsubscribe(session: Session, *, ref: str) -> i18n.Text:
    """End what a message's unsubscribe reference names; idempotent. Says what was ended."""
    kind, _, raw_id = ref.partition(":")
    target_id = int(raw_id)
    if kind == "follow":
        session.execute(delete(Follow).where(Follow.id == target_id))
    elif kind == "watch":
        session.execute(delete(AreaWatch).where(AreaWatch.id == target_id))
    elif kind == "alerts":
        pref = session.get(NotificationPreference, target_id)
        if pref is None:
            pref = NotificationPreference(
                user_id=target_id, email=True, webpush=True, webhook=True, agency_alerts=True
            )
            session.add(pref)
        pref.agency_alerts = False
    else:
        raise ValueError(f"unknown unsubscribe reference {ref!r}")
    return i18n.text(f"notify.unsubscribe.done.{kind}")
