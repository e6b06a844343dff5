"""Login sessions: each login starts a family of tokens that works until the session ends.

Refresh tokens rotate: each is traded in once for a new pair. One that comes back after it was
traded in means two parties hold the family (a stolen copy), and the whole family ends, its
access tokens too, as the OAuth 2.0 Security BCP (RFC 9700 §4.14.2) advises.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from app import i18n
from app.config import Settings
from app.db import rows_changed
from app.errors import Unauthenticated
from app.models import AuthSession, SessionEnd, User
from app.models.base import utcnow
from app.security import TokenClaims, issue_token, read_token


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str


class RefreshReplayed(Unauthenticated):
    """A refresh token that was already traded in: its session has ended, and that end must be
    committed although the answer is a refusal."""


def _bad_token() -> Unauthenticated:
    return Unauthenticated(i18n.text("error.auth.bad_token"))


def _tokens(settings: Settings, *, user_id: int, session_id: int, generation: int) -> Tokens:
    access, lifetime = issue_token(
        settings, user_id=user_id, session_id=session_id, token_type="access"
    )
    refresh, _ = issue_token(
        settings,
        user_id=user_id,
        session_id=session_id,
        token_type="refresh",
        generation=generation,
    )
    return Tokens(access_token=access, expires_in=lifetime, refresh_token=refresh)


def start(session: Session, settings: Settings, *, user: User) -> Tokens:
    """A new login session for this user, and its first tokens."""
    return _tokens(
        settings, user_id=user.id, session_id=start_login(session, user=user), generation=0
    )


def caller(session: Session, settings: Settings, access_token: str) -> tuple[User, TokenClaims]:
    """The active user an access token names, while its session is live. Only reads (one
    query), so the check needs no write lock."""
    claims = read_token(settings, access_token, expected="access")
    if claims is None:
        raise _bad_token()
    return live_user(session, user_id=claims.user_id, session_id=claims.session_id), claims


def live_user(session: Session, *, user_id: int, session_id: int) -> User:
    """The active user of a login session that has not ended (tokens and the pages' session
    cookie both name one)."""
    user = session.scalar(
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id == session_id,
            AuthSession.user_id == user_id,
            AuthSession.ended_at.is_(None),
            User.is_active,
        )
    )
    if user is None:
        raise _bad_token()
    return user


def start_login(session: Session, *, user: User) -> int:
    """A new login session for this user, without tokens (the pages keep it in a cookie)."""
    login = AuthSession(user_id=user.id, generation=0)
    session.add(login)
    session.flush()
    return login.id


def refresh(session: Session, settings: Settings, *, refresh_token: str) -> Tokens:
    """Trade the session's current refresh token for a new pair; an older one ends the
    session (raises RefreshReplayed)."""
    claims = read_token(settings, refresh_token, expected="refresh")
    if claims is None:
        raise _bad_token()
    family = (AuthSession.id == claims.session_id, AuthSession.user_id == claims.user_id)
    # First trade wins: a conditional UPDATE, so two presentations of one token cannot both
    # rotate it (the second waits for the first on PostgreSQL, then finds it moved on).
    rotated = rows_changed(
        session,
        update(AuthSession)
        .where(
            *family,
            AuthSession.generation == claims.generation,
            AuthSession.ended_at.is_(None),
        )
        .values(generation=claims.generation + 1, updated_at=utcnow()),
    )
    if not rotated:
        if _end(session, *family, reason=SessionEnd.reuse):
            raise RefreshReplayed(i18n.text("error.auth.bad_token"))
        raise _bad_token()
    active = session.scalar(select(User.is_active).where(User.id == claims.user_id))
    if not active:
        raise _bad_token()
    return _tokens(
        settings,
        user_id=claims.user_id,
        session_id=claims.session_id,
        generation=claims.generation + 1,
    )


def _end(session: Session, *which: ColumnElement[bool], reason: SessionEnd) -> int:
    """End the live sessions matching `which`; how many ended."""
    return rows_changed(
        session,
        update(AuthSession)
        .where(*which, AuthSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason, updated_at=utcnow()),
    )


def end(session: Session, *, session_id: int, reason: SessionEnd) -> None:
    """End one login session: its access and refresh tokens stop working."""
    _end(session, AuthSession.id == session_id, reason=reason)


def end_all(session: Session, *, user_id: int, reason: SessionEnd) -> None:
    """End every live session of a user (deactivation, a new password)."""
    _end(session, AuthSession.user_id == user_id, reason=reason)
