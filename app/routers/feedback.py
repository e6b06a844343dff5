"""The reporter answers back from the message's one-tap links, without logging in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import SettingsDep, WriteSessionDep
from app.errors import problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Answer
from app.schemas.notification import FeedbackRead, FeedbackRequest
from app.services.notifications import feedback
from app.services.notifications.tokens import LinkSigner

router = APIRouter(prefix="/feedback", tags=["feedback"], route_class=UnitOfWorkRoute)


def _answer(
    session: WriteSessionDep,
    settings: SettingsDep,
    token: str,
    answer: Answer | None,
    rating: int | None,
    comment: str | None,
) -> FeedbackRead:
    claim = LinkSigner(settings.secret_key).read_feedback(
        token, max_age=settings.feedback_link_max_age
    )
    issue, given = feedback.respond(
        session, claim=claim, answer=answer, rating=rating, comment=comment
    )
    return FeedbackRead(
        issue=issue.public_id,
        status=issue.status,
        answer=given.answer,
        rating=given.rating,
        comment=given.comment,
    )


@router.get(
    "",
    response_model=FeedbackRead,
    responses=problem_responses(400, 404, 409, 422),
    summary="One tap: fixed, not fixed, or a rating",
)
def answer_by_link(
    session: WriteSessionDep,
    settings: SettingsDep,
    token: Annotated[str, Query(min_length=10, max_length=500)],
    answer: Annotated[Answer | None, Query()] = None,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> FeedbackRead:
    """The links in the reporter's "resolved" message. `fixed` closes the issue, `not_fixed`
    reopens it and returns it to the agency; the links expire."""
    return _answer(session, settings, token, answer, rating, None)


@router.post(
    "",
    response_model=FeedbackRead,
    responses=problem_responses(400, 404, 409, 413, 415, 422),
    summary="Answer with a comment",
)
def answer_with_comment(
    body: FeedbackRequest, session: WriteSessionDep, settings: SettingsDep
) -> FeedbackRead:
    return _answer(session, settings, body.token, body.answer, body.rating, body.comment)
