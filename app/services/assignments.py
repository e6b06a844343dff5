"""Assignment: which staff member of the handling agency works on an issue."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import i18n
from app.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    PreconditionFailed,
    ValidationFailed,
)
from app.models import EventAction, Issue, IssueEvent, IssueStatus, Role, User
from app.schemas.problem import FieldProblem
from app.services import lifecycle, permissions


def _invalid_assignee(key: str) -> ValidationFailed:
    return ValidationFailed(
        i18n.text(key),
        errors=[
            FieldProblem(location="body.assignee", message=key.rsplit(".", 1)[-1], code="invalid")
        ],
    )


def _check_actor(session: Session, actor: User, issue: Issue) -> None:
    """Managers (and admins) assign anyone; agents only take or release it for themselves."""
    if permissions.is_admin(actor) or permissions.is_handling_staff(actor, issue):
        return
    if issue.agency_id is None and permissions.is_candidate_staff(
        actor, permissions.candidate_agency_ids(session, issue)
    ):
        raise lifecycle.claim_first(issue, "assign it")
    raise Forbidden(i18n.text("assign.not_handling"))


def _check_assignee(session: Session, issue: Issue, assignee_id: int) -> None:
    """Only an active agent or manager of the agency handling the issue can work on it."""
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.is_active:
        raise _invalid_assignee("assign.unknown_user")
    if not assignee.role.is_staff:
        raise _invalid_assignee("assign.not_staff")
    if assignee.agency_id != issue.agency_id:
        raise _invalid_assignee("assign.other_agency")


def assign(
    session: Session,
    *,
    issue: Issue,
    actor: User,
    assignee_id: int | None,
    expected_version: int | None,
) -> IssueEvent | None:
    """Give the issue to one staff member of its agency (None: release it), with an internal
    `assigned` event that tells the new assignee. Assigning to whoever already has it changes
    nothing and writes nothing."""
    lifecycle._lock(session, issue)
    _check_actor(session, actor, issue)
    if issue.agency_id is None:
        # An admin (who claims nothing), on an issue no agency holds: no staff to give it to yet.
        raise InvalidTransition(
            i18n.text("assign.no_agency"),
            current_status=issue.status.value,
            allowed_actions=[lifecycle.Action.transfer.value],
        )
    # An agent takes an unassigned issue or releases their own; taking over is a manager's call.
    if actor.role == Role.agent and not (
        (assignee_id == actor.id and issue.assignee_id in (None, actor.id))
        or (assignee_id is None and issue.assignee_id == actor.id)
    ):
        raise Forbidden(i18n.text("assign.agent_self_only"))
    if issue.status == IssueStatus.closed:
        raise Conflict(i18n.text("assign.closed"))
    if expected_version is not None and expected_version != issue.version:
        raise PreconditionFailed(
            i18n.text("assign.stale", version=issue.version, expected=expected_version),
            current_version=issue.version,
        )
    if assignee_id is not None:
        _check_assignee(session, issue, assignee_id)
    if assignee_id == issue.assignee_id:
        return None
    issue.assignee_id = assignee_id
    event = lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.assigned,
        actor=actor,
        from_status=issue.status,
        # Staff names are the agencies' business: the public timeline does not show it.
        is_public=False,
        assignee_id=assignee_id,
    )
    session.flush()
    return event
