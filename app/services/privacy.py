"""Data-subject rights (Thailand's PDPA, GDPR-compatible) and the retention policy.

A person may download everything stored about them and erase their account. Erasing removes
every personal field and every link that exists only for them (follows, watches, keys, push
subscriptions, their messages' addresses) but keeps the civic record: their reports, comments
and answers stay, by no one. The retention policy does the same to each closed issue once its
time is up: its reporter, followers and message addresses are cut loose and its photo originals
deleted. Each act writes a `PrivacyAudit` row saying what kind of data and how much, never the
data itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app import i18n
from app.db import Database, rows_changed
from app.errors import Forbidden
from app.models import (
    ApiKey,
    AreaWatch,
    Comment,
    Follow,
    Issue,
    IssueEvent,
    IssueFeedback,
    IssueStatus,
    LineContact,
    Notification,
    NotificationPreference,
    NotificationStatus,
    Photo,
    PhotoFile,
    PhotoVariant,
    PrivacyAction,
    PrivacyAudit,
    PushSubscription,
    Registration,
    SessionEnd,
    Support,
    User,
    Webhook,
)
from app.models.base import utcnow
from app.security import verify_password
from app.services import permissions, sessions
from app.storage import PhotoStore, StorageError

log = logging.getLogger(__name__)

# What a message's address becomes once its person is gone (the column is not nullable: the
# row stays as the record that a message was sent).
ERASED_DESTINATION = "erased"
# Issues a retention run handles per transaction.
RETENTION_BATCH = 100


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def download(session: Session, *, user: User) -> dict[str, Any]:
    """Everything stored about the caller, as one JSON document (the right of access and of
    portability); the download itself is audited."""
    reports = session.scalars(
        select(Issue).where(Issue.reporter_id == user.id).order_by(Issue.id)
    ).all()
    public_ids = dict(
        session.execute(
            select(Issue.id, Issue.public_id).where(
                Issue.id.in_(
                    select(Comment.issue_id)
                    .where(Comment.author_id == user.id)
                    .union(
                        select(Follow.issue_id).where(Follow.user_id == user.id),
                        select(Support.issue_id).where(Support.user_id == user.id),
                        select(IssueFeedback.issue_id).where(IssueFeedback.reporter_id == user.id),
                        select(Photo.issue_id).where(Photo.uploader_id == user.id),
                    )
                )
            )
        ).all()
    )
    document: dict[str, Any] = {
        "format": "civicloop personal data, version 1",
        "exported_at": utcnow().isoformat(),
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role.value,
            "language": user.language.value,
            "contact_needs": list(user.contact_needs),
            "signed_in_with": "device" if user.email is None else "e-mail",
            "created_at": _iso(user.created_at),
        },
        "reports": [
            {
                "id": issue.public_id,
                "title": issue.title,
                "description": issue.description,
                "address": issue.address,
                "latitude": issue.location.lat,
                "longitude": issue.location.lon,
                "attributes": issue.attributes,
                "status": issue.status.value,
                "private": issue.is_private,
                "created_at": _iso(issue.created_at),
                "closed_at": _iso(issue.closed_at),
            }
            for issue in reports
        ],
        "comments": [
            {
                "issue": public_ids.get(c.issue_id),
                "body": c.body,
                "created_at": _iso(c.created_at),
                "hidden_by_moderation": c.hidden_at is not None,
            }
            for c in session.scalars(
                select(Comment).where(Comment.author_id == user.id).order_by(Comment.id)
            )
        ],
        "feedback": [
            {
                "issue": public_ids.get(f.issue_id),
                "answer": f.answer.value if f.answer else None,
                "rating": f.rating,
                "comment": f.comment,
                "created_at": _iso(f.created_at),
            }
            for f in session.scalars(
                select(IssueFeedback)
                .where(IssueFeedback.reporter_id == user.id)
                .order_by(IssueFeedback.id)
            )
        ],
        "photos": [
            {"issue": public_ids.get(p.issue_id), "id": p.id, "created_at": _iso(p.created_at)}
            for p in session.scalars(
                select(Photo).where(Photo.uploader_id == user.id).order_by(Photo.id)
            )
        ],
        "following": [
            public_ids.get(issue_id)
            for issue_id in session.scalars(
                select(Follow.issue_id).where(Follow.user_id == user.id).order_by(Follow.id)
            )
        ],
        "supporting": [
            public_ids.get(issue_id)
            for issue_id in session.scalars(
                select(Support.issue_id).where(Support.user_id == user.id).order_by(Support.id)
            )
        ],
        "area_watches": [
            {
                "center": [w.center.lon, w.center.lat] if w.center else None,
                "radius_m": w.radius_m,
                "area_bounds": None if w.center else [w.min_lon, w.min_lat, w.max_lon, w.max_lat],
                "created_at": _iso(w.created_at),
            }
            for w in session.scalars(
                select(AreaWatch).where(AreaWatch.user_id == user.id).order_by(AreaWatch.id)
            )
        ],
        "push_subscriptions": [
            {"endpoint": s.endpoint, "created_at": _iso(s.created_at)}
            for s in session.scalars(
                select(PushSubscription)
                .where(PushSubscription.user_id == user.id)
                .order_by(PushSubscription.id)
            )
        ],
        "webhooks": [
            {"url": h.url, "created_at": _iso(h.created_at)}
            for h in session.scalars(
                select(Webhook).where(Webhook.owner_id == user.id).order_by(Webhook.id)
            )
        ],
        "api_keys": [
            {"name": k.name, "created_at": _iso(k.created_at)}
            for k in session.scalars(
                select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.id)
            )
        ],
        "messages": [
            {
                "channel": n.channel.value,
                "to": n.destination,
                "template": n.template,
                "status": n.status.value,
                "created_at": _iso(n.created_at),
                "sent_at": _iso(n.sent_at),
            }
            for n in session.scalars(
                select(Notification)
                .where(Notification.recipient_user_id == user.id)
                .order_by(Notification.id)
            )
        ],
    }
    _audit(
        session,
        PrivacyAction.data_downloaded,
        user_id=user.id,
        details={k: len(v) for k, v in document.items() if isinstance(v, list)},
    )
    return document


def erase_account(session: Session, *, user: User, password: str | None) -> dict[str, int]:
    """A citizen erases their own account: personal fields and what exists only for them go,
    their reports, comments and answers stay as the civic record, by no one. An account with a
    password confirms with it; staff accounts are switched off by an admin instead."""
    if user.role.is_staff or permissions.is_admin(user):
        raise Forbidden(i18n.text("privacy.erase_staff"))
    if user.password_hash is not None and (
        password is None or not verify_password(password, user.password_hash)
    ):
        raise Forbidden(i18n.text("privacy.erase_password"))
    email = user.email
    removed = {
        "follows": _delete(session, Follow, Follow.user_id == user.id),
        "area_watches": _delete(session, AreaWatch, AreaWatch.user_id == user.id),
        "push_subscriptions": _delete(
            session, PushSubscription, PushSubscription.user_id == user.id
        ),
        "webhooks": _delete(session, Webhook, Webhook.owner_id == user.id),
        "line_chats": _delete(session, LineContact, LineContact.user_id == user.id),
        "api_keys": _delete(session, ApiKey, ApiKey.user_id == user.id),
        "preferences": _delete(
            session, NotificationPreference, NotificationPreference.user_id == user.id
        ),
        **_forget_messages(session, Notification.recipient_user_id == user.id),
    }
    if email is not None:
        removed["sign_ups"] = _delete(session, Registration, Registration.email == email)
    sessions.end_all(session, user_id=user.id, reason=SessionEnd.deactivated)
    _anonymise(user)
    kept = {
        "reports": _count(session, Issue, Issue.reporter_id == user.id),
        "comments": _count(session, Comment, Comment.author_id == user.id),
    }
    _audit(session, PrivacyAction.account_erased, user_id=user.id, details=removed | kept)
    session.flush()
    return kept


def _anonymise(user: User) -> None:
    user.email = None
    user.password_hash = None
    # Every account needs an identity (a check constraint): this one is the hash of a secret
    # thrown away at once, so no device can ever present it.
    user.device_id_hash = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
    user.display_name = ""
    user.contact_needs = []
    user.is_active = False
    user.erased_at = utcnow()


def placeholder(session: Session) -> User:
    """A new account of no one, to stand for a person the record no longer names."""
    user = User(display_name="", is_active=False, erased_at=utcnow())
    _anonymise(user)
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class Retention:
    """The retention run's result: issues handled, and photo files left to delete."""

    issues: int
    file_keys: list[str]


def apply_retention(session: Session, *, closed_before: dt.datetime) -> Retention:
    """Issues closed before `closed_before` lose their personal data, a batch at a time: the
    reporter (replaced by an account of no one, one per issue so reports cannot be linked),
    followers, message addresses and photo originals (whose files the caller deletes after the
    commit). The civic record (text, place, timeline, resized photos) stays."""
    due = session.scalars(
        select(Issue)
        .where(
            Issue.status == IssueStatus.closed,
            Issue.closed_at < closed_before,
            Issue.personal_data_removed_at.is_(None),
        )
        .order_by(Issue.closed_at, Issue.id)
        .limit(RETENTION_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    keys: list[str] = []
    for issue in due:
        details, issue_keys = _retire(session, issue)
        keys.extend(issue_keys)
        _audit(session, PrivacyAction.retention_applied, issue_id=issue.id, details=details)
    session.flush()
    return Retention(len(due), keys)


def _retire(session: Session, issue: Issue) -> tuple[dict[str, int], list[str]]:
    reporter_id = issue.reporter_id
    stand_in = placeholder(session)
    moved = 0
    for model, column in (
        (IssueEvent, IssueEvent.actor_id),
        (Comment, Comment.author_id),
        (IssueFeedback, IssueFeedback.reporter_id),
        (Photo, Photo.uploader_id),
    ):
        moved += rows_changed(
            session,
            update(model)
            .where(model.issue_id == issue.id, column == reporter_id)
            .values({column.key: stand_in.id}),
        )
    issue.reporter_id = stand_in.id
    originals = session.scalars(
        select(PhotoFile)
        .join(Photo, Photo.id == PhotoFile.photo_id)
        .where(Photo.issue_id == issue.id, PhotoFile.variant == PhotoVariant.full)
    ).all()
    keys = [f.key for f in originals]
    for original in originals:
        session.delete(original)
    session.flush()
    # Content-addressed: the same bytes may still back another photo's file.
    shared = set(session.scalars(select(PhotoFile.key).where(PhotoFile.key.in_(keys))))
    details = {
        "reporter_links": moved + 1,
        "follows": _delete(session, Follow, Follow.issue_id == issue.id),
        **_forget_messages(session, Notification.issue_id == issue.id),
        "photo_originals": len(originals),
    }
    issue.personal_data_removed_at = utcnow()
    return details, [k for k in keys if k not in shared]


def run_retention(database: Database, store: PhotoStore, *, days: int | None) -> int:
    """The worker's housekeeping step: apply the policy to every issue due, batch by batch,
    deleting photo files after each commit. None: the policy is off (keep everything)."""
    if days is None:
        return 0
    handled = 0
    while True:
        with database.session(write=True) as session, session.begin():
            done = apply_retention(session, closed_before=utcnow() - dt.timedelta(days=days))
        _delete_files(store, done.file_keys)
        handled += done.issues
        if done.issues < RETENTION_BATCH:
            return handled


def _delete_files(store: PhotoStore, keys: Iterable[str]) -> None:
    for key in keys:
        try:
            store.delete(key)
        except StorageError as exc:
            # The row is gone, so nothing serves the file; it is logged to be removed by hand.
            log.error("retention: photo original %s not deleted: %s", key, exc)


def _forget_messages(session: Session, where: Any) -> dict[str, int]:
    pending = _delete(
        session,
        Notification,
        where,
        Notification.status == NotificationStatus.pending,
    )
    forgotten = rows_changed(
        session,
        update(Notification)
        .where(where, Notification.destination != ERASED_DESTINATION)
        .values(destination=ERASED_DESTINATION),
    )
    return {"messages_unsent": pending, "message_addresses": forgotten}


def _delete(session: Session, model: Any, *where: Any) -> int:
    return rows_changed(session, delete(model).where(*where))


def _count(session: Session, model: Any, where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(where)) or 0)


def _audit(
    session: Session,
    action: PrivacyAction,
    *,
    user_id: int | None = None,
    issue_id: int | None = None,
    details: dict[str, int],
) -> None:
    session.add(PrivacyAudit(action=action, user_id=user_id, issue_id=issue_id, details=details))
