"""Following issues and watching areas; the one-click unsubscribe of every message."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import Reporter, SessionDep
from app.errors import problem_responses
from app.routers.issues import CurrentIssue
from app.routing import UnitOfWorkRoute
from app.schemas.notification import FollowState
from app.services.notifications import follows

router = APIRouter(tags=["following"], route_class=UnitOfWorkRoute)


@router.post(
    "/issues/{issue_id}/follow",
    response_model=FollowState,
    responses=problem_responses(400, 401, 404),
    summary="Follow an issue",
)
def follow_issue(issue: CurrentIssue, session: SessionDep, user: Reporter) -> FollowState:
    """Be told of its public steps, with an account or only an `X-Device-Id`."""
    follows.follow(session, issue=issue, user=user)
    return FollowState(issue=issue.public_id, following=True)


@router.delete(
    "/issues/{issue_id}/follow",
    response_model=FollowState,
    responses=problem_responses(400, 401, 404),
    summary="Stop following an issue",
)
def unfollow_issue(issue: CurrentIssue, session: SessionDep, user: Reporter) -> FollowState:
    follows.unfollow(session, issue=issue, user=user)
    return FollowState(issue=issue.public_id, following=False)
