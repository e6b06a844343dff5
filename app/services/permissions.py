"""Object-level rules: who stands in which relation to an issue."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Issue, PhotoKind, Role, User, issue_candidate


def candidate_agency_ids(session: Session, issue: Issue) -> set[int]:
    return set(
        session.scalars(
            select(issue_candidate.c.agency_id).where(issue_candidate.c.issue_id == issue.id)
        )
    )


def is_reporter(user: User | None, issue: Issue) -> bool:
    return user is not None and user.id == issue.reporter_id


def is_handling_staff(user: User | None, issue: Issue) -> bool:
    """Staff of the agency currently responsible for the issue."""
    return (
        user is not None
        and user.role.is_staff
        and issue.agency_id is not None
        and user.agency_id == issue.agency_id
    )


def is_candidate_staff(user: User | None, candidates: Collection[int]) -> bool:
    """Staff of an agency the issue was routed to (its queue shows the issue until claimed)."""
    return user is not None and user.role.is_staff and user.agency_id in candidates


def is_admin(user: User | None) -> bool:
    return user is not None and user.role == Role.admin


def must_name_version(user: User) -> bool:
    """Staff and admins work on issues together, so each change of theirs names the version it
    was made on (else 428, RFC 6585), or one would silently undo another's; a citizen's app
    may leave it out."""
    return user.role is not Role.citizen


def sees_internal(user: User | None, issue: Issue, candidates: Collection[int]) -> bool:
    """Internal notes and staff names: the agencies involved and admins."""
    return is_admin(user) or is_handling_staff(user, issue) or is_candidate_staff(user, candidates)


def can_see_private(user: User | None, issue: Issue, candidates: Collection[int]) -> bool:
    """Reporter details and internal notes: the reporter, the agencies involved, admins."""
    return is_reporter(user, issue) or sees_internal(user, issue, candidates)


def sees_private_report(user: User | None, issue: Issue, candidates: Collection[int]) -> bool:
    """A private report: its reporter, the handling agency (while unclaimed, the agencies it was
    routed to: their queues show it) and admins; not an agency that handed it over."""
    if is_reporter(user, issue) or is_admin(user) or is_handling_staff(user, issue):
        return True
    return issue.agency_id is None and is_candidate_staff(user, candidates)


def can_see_agency_queue(user: User, agency_id: int) -> bool:
    return is_admin(user) or (user.role.is_staff and user.agency_id == agency_id)


def may_add_photo(user: User, issue: Issue, kind: PhotoKind) -> bool:
    """Report photos come from the reporter, resolution photos from the handling agency;
    admins may add either."""
    if is_admin(user):
        return True
    if kind == PhotoKind.report:
        return is_reporter(user, issue)
    return is_handling_staff(user, issue)


def sees_notes(user: User | None, issue: Issue) -> bool:
    """Internal notes are the handling agency's working memory: its staff and admins."""
    return is_admin(user) or is_handling_staff(user, issue)


def may_moderate(user: User | None, issue: Issue) -> bool:
    """Hiding an issue or a comment on it: the handling agency and admins."""
    return sees_notes(user, issue)


def may_review(user: User | None, issue: Issue, candidates: Collection[int]) -> bool:
    """Publishing or rejecting a report awaiting review: the agencies it was routed to (no one
    claims a report before it is published), the handling agency and admins."""
    return sees_private_report(user, issue, candidates) and not is_reporter(user, issue)


def sees_hidden_issue(user: User | None, issue: Issue, candidates: Collection[int]) -> bool:
    """A hidden issue stays visible to the agencies involved and admins, no one else."""
    return sees_internal(user, issue, candidates)
