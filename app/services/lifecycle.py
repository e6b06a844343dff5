"""The issue state machine: which action moves which status, and who may take it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.errors import (
    AlreadyClaimed,
    ClaimFirst,
    DomainError,
    FieldText,
    Forbidden,
    InvalidTransition,
    PreconditionFailed,
    ValidationFailed,
)
from app.models import Agency, EventAction, Issue, IssueEvent, IssueStatus, Resolution, User
from app.models.base import utcnow
from app.services import permissions
from app.services.notifications import outbox


class Action(StrEnum):
    claim = "claim"
    start = "start"
    resolve = "resolve"
    close = "close"
    reopen = "reopen"
    transfer = "transfer"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[IssueStatus]
    target: IssueStatus
    event: EventAction


S = IssueStatus
SYSTEM_ACTOR = "system"
RULES: dict[Action, Rule] = {
    Action.claim: Rule(frozenset({S.open}), S.acknowledged, EventAction.claimed),
    Action.start: Rule(frozenset({S.acknowledged}), S.in_progress, EventAction.started),
    Action.resolve: Rule(
        frozenset({S.acknowledged, S.in_progress}), S.resolved, EventAction.resolved
    ),
    Action.close: Rule(frozenset({S.resolved}), S.closed, EventAction.closed),
    # Back to the same agency, which must act on it again.
    Action.reopen: Rule(frozenset({S.resolved}), S.acknowledged, EventAction.reopened),
    # The receiving agency claims it like a new issue.
    Action.transfer: Rule(
        frozenset({S.open, S.acknowledged, S.in_progress}), S.open, EventAction.transferred
    ),
}


def may_take(user: User, action: Action, issue: Issue, candidates: Collection[int]) -> bool:
    """Whether the user's relation to the issue lets them take this action at all."""
    if action == Action.claim:
        # Admins belong to no agency, so they assign with a transfer instead.
        return permissions.is_candidate_staff(user, candidates) or permissions.is_handling_staff(
            user, issue
        )
    if permissions.is_admin(user) or permissions.is_handling_staff(user, issue):
        return True
    return action == Action.reopen and permissions.is_reporter(user, issue)


def reopen_window_closed(user: User, issue: Issue, reopen_window: dt.timedelta) -> bool:
    """A reporter (who is not also staff of the issue) may reopen only for a while after resolve."""
    reporter_only = permissions.is_reporter(user, issue) and not (
        permissions.is_handling_staff(user, issue) or permissions.is_admin(user)
    )
    return (
        reporter_only
        and issue.resolved_at is not None
        and utcnow() - issue.resolved_at > reopen_window
    )


def allowed_actions(
    user: User | None, issue: Issue, candidates: Collection[int], reopen_window: dt.timedelta
) -> list[Action]:
    """The actions this user can take on the issue now."""
    if user is None:
        return []
    return [
        action
        for action, rule in RULES.items()
        if issue.status in rule.sources
        and may_take(user, action, issue, candidates)
        and not (action == Action.claim and issue.agency_id not in (None, user.agency_id))
        and not (action == Action.reopen and reopen_window_closed(user, issue, reopen_window))
    ]


def record_event(
    session: Session,
    *,
    issue: Issue,
    action: EventAction,
    actor: User | None,
    from_status: IssueStatus | None,
    note: str | None = None,
    message: i18n.Text | None = None,
    is_public: bool = True,
    from_agency_id: int | None = None,
    to_agency_id: int | None = None,
    comment_id: int | None = None,
    assignee_id: int | None = None,
    related_issue_id: int | None = None,
    actor_role: str | None = None,
    written: outbox.Written | None = None,
) -> IssueEvent:
    """Append to the issue's audit trail and enqueue its notifications, in the caller's
    transaction: the change, its event and its messages commit together or not at all.
    No actor means the system (for example the worker's auto-close), or the role named by
    `actor_role` (a contractor acting through a link, who has no account). `note` is what a person
    wrote (kept as written); `message` what the system says, stored as its catalog key and
    worded for each reader. `written` is what the caller wrote beside a new report (its
    candidates and follows), so its messages are addressed without reading that back."""
    message_key, message_params = i18n.stored(message) if message else (None, None)
    event = IssueEvent(
        issue_id=issue.id,
        created_at=utcnow(),
        action=action,
        actor_id=actor.id if actor else None,
        actor_agency_id=actor.agency_id if actor else None,
        actor_role=actor_role or (actor.role.value if actor else SYSTEM_ACTOR),
        from_status=from_status,
        to_status=issue.status,
        from_agency_id=from_agency_id,
        to_agency_id=to_agency_id,
        resolution=issue.resolution,
        note=note,
        message_key=message_key,
        message_params=message_params,
        is_public=is_public,
        comment_id=comment_id,
        assignee_id=assignee_id,
        related_issue_id=related_issue_id,
    )
    session.add(event)
    outbox.enqueue_for_event(session, issue=issue, event=event, actor=actor, written=written)
    return event


def event_message(event: IssueEvent) -> str | None:
    """What the system said of this step, worded in the language of the answer being written."""
    if event.message_key is None:
        return None
    return i18n.restored(event.message_key, event.message_params).render(i18n.current())


def verb(action: Action) -> i18n.Text:
    """The action as a verb for people ("start", "เริ่มดำเนินการ")."""
    return i18n.text(f"verb.{action.value}")


def _refusal(user: User, action: Action, issue: Issue, candidates: Collection[int]) -> DomainError:
    """Why `may_take` said no, worded so the caller knows what would work instead."""
    if action == Action.reopen:
        return Forbidden(i18n.text("error.lifecycle.reopen_who"))
    if action == Action.claim and permissions.is_admin(user):
        return Forbidden(i18n.text("error.lifecycle.admin_claim"))
    if issue.agency_id is None and permissions.is_candidate_staff(user, candidates):
        return claim_first(issue, i18n.text(f"doing.{action.value}"))
    if user.role.is_staff:
        elsewhere = "other_agency" if issue.agency_id is not None else "not_routed"
        return Forbidden(i18n.text(f"error.lifecycle.{elsewhere}", action=verb(action)))
    if action == Action.claim:
        return Forbidden(i18n.text("error.lifecycle.claim_who"))
    return Forbidden(i18n.text("error.lifecycle.action_who", action=verb(action)))


def claim_first(issue: Issue, doing: str | i18n.Text) -> ClaimFirst:
    """Staff of an agency the issue was routed to, acting before any agency claimed it: nothing
    is forbidden to them, a step is missing. `doing` completes "claim it before you ...", best
    as a catalog text (`doing.<action>`)."""
    return ClaimFirst(
        i18n.text("error.lifecycle.claim_first", doing=doing),
        current_status=issue.status.value,
        allowed_actions=[Action.claim.value],
    )


def _check_allowed(
    user: User,
    action: Action,
    issue: Issue,
    candidates: Collection[int],
    reopen_window: dt.timedelta,
) -> None:
    if not may_take(user, action, issue, candidates):
        raise _refusal(user, action, issue, candidates)
    # Only another agency holding it is "already claimed"; the user's own agency holding it past
    # `open` is an ordinary invalid transition, reported below.
    if action == Action.claim and issue.agency_id not in (None, user.agency_id):
        raise AlreadyClaimed(
            i18n.text("error.lifecycle.already_claimed"),
            current_status=issue.status.value,
            allowed_actions=[
                a.value for a in allowed_actions(user, issue, candidates, reopen_window)
            ],
        )
    if issue.status not in RULES[action].sources:
        allowed = allowed_actions(user, issue, candidates, reopen_window)
        raise InvalidTransition(
            i18n.text(
                "error.lifecycle.not_from",
                action=verb(action),
                status=i18n.text(f"label.status.{issue.status.value}"),
                allowed=[verb(a) for a in allowed] or i18n.text("error.lifecycle.nothing"),
            ),
            current_status=issue.status.value,
            allowed_actions=[a.value for a in allowed],
        )
    if action == Action.reopen and reopen_window_closed(user, issue, reopen_window):
        raise InvalidTransition(
            i18n.text("error.lifecycle.reopen_window", days=reopen_window.days),
            current_status=issue.status.value,
            allowed_actions=[],
        )


def transition(
    session: Session,
    *,
    issue: Issue,
    action: Action,
    actor: User,
    expected_version: int | None,
    reopen_window: dt.timedelta,
    note: str | None = None,
    is_public: bool = True,
    resolution: Resolution | None = None,
    to_agency_id: int | None = None,
) -> IssueEvent:
    """Move the issue by one action and write its status event in the same transaction.

    Decided on the issue as the last committed change left it (see `_lock`), so of two
    concurrent claims the first wins and the second is told, as a late claim is, who was first.
    """
    _lock(session, issue)
    candidates = permissions.candidate_agency_ids(session, issue)
    _check_allowed(actor, action, issue, candidates, reopen_window)
    if expected_version is not None and expected_version != issue.version:
        raise PreconditionFailed(
            i18n.text("error.lifecycle.stale", current=issue.version, expected=expected_version),
            current_version=issue.version,
        )
    return apply_action(
        session,
        issue=issue,
        action=action,
        actor=actor,
        note=note,
        is_public=is_public,
        resolution=resolution,
        to_agency_id=to_agency_id,
    )


def apply_action(
    session: Session,
    *,
    issue: Issue,
    action: Action,
    actor: User | None,
    note: str | None = None,
    is_public: bool = True,
    resolution: Resolution | None = None,
    to_agency_id: int | None = None,
    message: i18n.Text | None = None,
    comment_id: int | None = None,
) -> IssueEvent:
    """Take a step whose permission the caller settled (a checked request, a reporter's signed
    answer, the worker's auto-close); the status must still allow it."""
    rule = RULES[action]
    if issue.status not in rule.sources:
        raise InvalidTransition(
            i18n.text(
                "error.lifecycle.not_now",
                action=verb(action),
                status=i18n.text(f"label.status.{issue.status.value}"),
            ),
            current_status=issue.status.value,
            allowed_actions=[],
        )
    now = utcnow()
    from_status, from_agency_id = issue.status, issue.agency_id
    if action == Action.claim:
        assert actor is not None, "a claim is always someone's"
        issue.agency_id = actor.agency_id
        issue.acknowledged_at = issue.acknowledged_at or now
    elif action == Action.start:
        issue.started_at = now
    elif action == Action.resolve:
        if resolution is None:
            # The request schema requires it too; the table's CHECK only forbids the converse.
            raise ValidationFailed(
                i18n.text("error.lifecycle.resolution_missing"),
                errors=[FieldText("body.resolution", i18n.text("validation.missing"), "missing")],
            )
        issue.resolution = resolution
        issue.resolved_at = now
    elif action == Action.close:
        issue.closed_at = now
    elif action == Action.reopen:
        issue.resolution = None
        issue.resolved_at = None
        issue.reopened_at = now
        issue.reopen_count += 1
        # A reopened duplicate is its own issue again: its link goes with its resolution.
        issue.duplicate_of_id = None
    elif action == Action.transfer:
        _check_transfer_target(session, issue, to_agency_id)
        issue.agency_id = to_agency_id
        issue.assignee_id = None  # its staff cannot work on it any more
    issue.status = rule.target
    if action == Action.reopen and issue.agency_id is None:
        # Merged as a duplicate before any agency claimed it: back to the queues, unclaimed.
        issue.status = IssueStatus.open
    # Public by default; only staff may keep a note internal.
    public = is_public or actor is None or not (actor.role.is_staff or permissions.is_admin(actor))
    event = record_event(
        session,
        issue=issue,
        action=rule.event,
        actor=actor,
        from_status=from_status,
        note=note,
        message=message,
        comment_id=comment_id,
        is_public=public,
        from_agency_id=from_agency_id if action in (Action.transfer, Action.claim) else None,
        to_agency_id=issue.agency_id if action in (Action.transfer, Action.claim) else None,
    )
    session.flush()
    if issue.agency_id != from_agency_id:
        # agency_id changed under an already loaded `agency`: let the next query load the new one.
        session.expire(issue, ["agency"])
    return event


def _lock(session: Session, issue: Issue) -> None:
    """Wait for any concurrent change to the issue to commit, then re-read it.

    On PostgreSQL this is a row lock (SELECT ... FOR UPDATE) held to the end of the transaction;
    on SQLite the write transaction's BEGIN IMMEDIATE already serialised the writers, and the
    re-read sees nothing new. The version counter stays as the net for edits, which do not lock.
    """
    agency_id = issue.agency_id
    session.scalars(
        select(Issue)
        .where(Issue.id == issue.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()  # rows update the loaded issue only as they are fetched
    if issue.agency_id != agency_id:
        session.expire(issue, ["agency"])


def _check_transfer_target(session: Session, issue: Issue, to_agency_id: int | None) -> None:
    if to_agency_id is None or session.get(Agency, to_agency_id) is None:
        raise ValidationFailed(
            i18n.text("error.lifecycle.transfer_unknown"),
            errors=[
                FieldText(
                    "body.to_agency", i18n.text("error.field.unknown_agency"), "unknown_agency"
                )
            ],
        )
    if to_agency_id == issue.agency_id:
        raise ValidationFailed(
            i18n.text("error.lifecycle.transfer_same"),
            errors=[
                FieldText("body.to_agency", i18n.text("error.field.same_agency"), "same_agency")
            ],
        )
