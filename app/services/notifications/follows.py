"""Following issues, and the one-click unsubscribe every message carries."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import i18n
from app.models import (
    ApiKey,
    AreaWatch,
    Follow,
    Issue,
    Language,
    NotificationPreference,
    Open311Submission,
    User,
)
from app.services import accounts, issues
from app.services.notifications import account_mail
from app.services.notifications.account_mail import AccountMail


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


def request_follow_by_email(
    session: Session, *, issue: Issue, email: str, language: Language
) -> None:
    """Follow by e-mail, without an account: the address receives only a link that confirms it
    (its owner, not whoever typed it, decides); the follow begins when the link comes back."""
    account_mail.enqueue(
        session,
        mail=AccountMail.follow,
        to=email.strip().lower(),
        language=language,
        issue_id=issue.id,
        issue=issue.public_id,
        email=email.strip().lower(),
    )


def confirm_follow_by_email(
    session: Session, *, issue_id: int, email: str, language: Language
) -> tuple[Issue, Follow]:
    """The mailed link came back: the address is verified and follows the issue (if the public
    still sees it)."""
    public_id = session.scalar(select(Issue.public_id).where(Issue.id == issue_id))
    issue = issues.get_visible_issue(session, str(public_id), None)
    user = accounts.user_for_address(session, email=email, language=language)
    _hand_over_open311_report(session, issue=issue, user=user)
    return issue, follow(session, issue=issue, user=user)


def _hand_over_open311_report(session: Session, *, issue: Issue, user: User) -> None:
    """A report an Open311 client made for this address becomes its owner's once they confirm
    it: its reporter is them, not the client's account, so they are told as a reporter is,
    asked whether it is fixed, and their answer and stars count."""
    submitted = session.execute(
        select(Open311Submission.email, ApiKey.user_id)
        .join(ApiKey, ApiKey.id == Open311Submission.api_key_id)
        .where(Open311Submission.issue_id == issue.id)
    ).first()
    if submitted is None:
        return
    address, client_owner_id = submitted
    if address == user.email and issue.reporter_id == client_owner_id:
        issue.reporter_id = user.id


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
