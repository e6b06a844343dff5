"""The worker's housekeeping, every `auto_close_check_seconds`: undisputed resolved issues are
closed, and account records that can no longer be used are deleted once their retention ends.

A login session ended (logout, reuse, deactivation, new password) or expired (its last refresh
token is older than `refresh_token_days`) names tokens that no longer work; a sign-up that was
confirmed or whose link expired can make no account, and holds a password hash. Both are kept
`account_record_retention_days` for inquiries, then deleted. A token that names a deleted
session is refused as before: the caller and refresh checks look for a live session.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import AuthSession, Registration
from app.models.base import utcnow
from app.services.notifications.feedback import auto_close_all

PURGE_BATCH = 1000  # rows per transaction: SQLite's write lock is held briefly


def purge_sessions(session: Session, *, now: dt.datetime, settings: Settings) -> int:
    """Delete up to a batch of login sessions ended, or expired, longer ago than the retention;
    how many."""
    kept = dt.timedelta(days=settings.account_record_retention_days)
    lifetime = dt.timedelta(days=settings.refresh_token_days)
    # Each refresh moves updated_at on: the last refresh token expired `lifetime` after it.
    gone = or_(
        AuthSession.ended_at < now - kept,
        and_(AuthSession.ended_at.is_(None), AuthSession.updated_at < now - lifetime - kept),
    )
    return _delete_batch(session, AuthSession, gone)


def purge_sign_ups(session: Session, *, now: dt.datetime, settings: Settings) -> int:
    """Delete up to a batch of sign-ups confirmed, or whose link expired, longer ago than the
    retention; how many."""
    kept = dt.timedelta(days=settings.account_record_retention_days)
    link = dt.timedelta(hours=settings.sign_up_link_hours)
    gone = or_(
        Registration.confirmed_at < now - kept,
        and_(Registration.confirmed_at.is_(None), Registration.created_at < now - link - kept),
    )
    return _delete_batch(session, Registration, gone)


def _delete_batch(
    session: Session, model: type[AuthSession] | type[Registration], gone: ColumnElement[bool]
) -> int:
    ids = session.scalars(select(model.id).where(gone).limit(PURGE_BATCH)).all()
    if ids:
        session.execute(delete(model).where(model.id.in_(ids)))
    return len(ids)


def purge_account_records(database: Database, settings: Settings) -> int:
    """Every purgeable session and sign-up, a batch per transaction; how many were deleted."""
    deleted = 0
    for purge in (purge_sessions, purge_sign_ups):
        while True:
            with database.session(write=True) as session, session.begin():
                count = purge(session, now=utcnow(), settings=settings)
            deleted += count
            if count < PURGE_BATCH:
                break
    return deleted


def run(database: Database, settings: Settings) -> None:
    """One round of the worker's housekeeping."""
    auto_close_all(database, settings)
    purge_account_records(database, settings)
