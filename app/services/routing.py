"""Routing: which agencies' queues a new issue appears in."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.models import Issue, issue_candidate
from app.spatial import SpatialBackend


def route(session: Session, *, spatial: SpatialBackend, issue: Issue) -> list[int]:
    """Every agency whose jurisdiction covers the point and that handles the category.

    None means the issue waits in the admins' unrouted queue.
    """
    agency_ids = spatial.covering_agency_ids(
        session, point=issue.location, category_id=issue.category_id
    )
    if agency_ids:
        session.execute(
            insert(issue_candidate), [{"issue_id": issue.id, "agency_id": a} for a in agency_ids]
        )
    return agency_ids
