"""Routing: which agencies' queues a new issue appears in, and re-routing when jurisdictions or
categories change."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.models import Agency, EventAction, Issue, IssueStatus, User, issue_candidate
from app.services import lifecycle
from app.spatial import SpatialBackend


def route(session: Session, *, spatial: SpatialBackend, issue: Issue) -> list[int]:
    """Every active agency whose jurisdiction covers the point and that handles the category.

    None means the issue waits in the admins' triage (unrouted) queue.
    """
    agency_ids = spatial.covering_agency_ids(
        session, point=issue.location, category_id=issue.category_id
    )
    if agency_ids:
        session.execute(
            insert(issue_candidate), [{"issue_id": issue.id, "agency_id": a} for a in agency_ids]
        )
    return agency_ids


def reroute_unclaimed(
    session: Session, *, spatial: SpatialBackend, actor: User | None
) -> list[Issue]:
    """After a change of jurisdictions, categories handled or agencies active: every issue still
    open that no agency has claimed gets the candidates the agencies give it now. Claimed
    issues keep their agency. Each moved issue gets an internal `rerouted` event naming the
    queues before and after (the audit trail); the moved issues are returned."""
    unclaimed = list(
        session.scalars(
            select(Issue)
            .where(Issue.agency_id.is_(None), Issue.status == IssueStatus.open)
            .order_by(Issue.id)
        )
    )
    if not unclaimed:
        return []
    before: dict[int, set[int]] = defaultdict(set)
    for issue_id, agency_id in session.execute(
        select(issue_candidate.c.issue_id, issue_candidate.c.agency_id).where(
            issue_candidate.c.issue_id.in_([i.id for i in unclaimed])
        )
    ):
        before[issue_id].add(agency_id)
    slugs = dict(session.execute(select(Agency.id, Agency.slug)).tuples().all())
    moved: list[Issue] = []
    for issue in unclaimed:
        now = set(
            spatial.covering_agency_ids(
                session, point=issue.location, category_id=issue.category_id
            )
        )
        if now == before[issue.id]:
            continue
        session.execute(delete(issue_candidate).where(issue_candidate.c.issue_id == issue.id))
        if now:
            session.execute(
                insert(issue_candidate),
                [{"issue_id": issue.id, "agency_id": a} for a in sorted(now)],
            )

        def named(ids: set[int]) -> str:
            return ", ".join(sorted(slugs[i] for i in ids)) or "triage"

        lifecycle.record_event(
            session,
            issue=issue,
            action=EventAction.rerouted,
            actor=actor,
            from_status=issue.status,
            note=f"queues: {named(before[issue.id])} -> {named(now)}",
            is_public=False,
        )
        moved.append(issue)
    return moved
