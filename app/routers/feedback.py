"""The reporter answers back from the message's one-tap links, without logging in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.config import Settings
from app.deps import SessionDep, SettingsDep, WriteSessionDep
from app.errors import problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Answer
from app.routers.mailed_links import describe_link
from app.schemas.notification import Confirmation, FeedbackRead, FeedbackRequest
from app.services.notifications import feedback
from app.services.notifications.tokens import FeedbackClaim, LinkSigner

router = APIRouter(prefix="/feedback", tags=["feedback"], route_class=UnitOfWorkRoute)


def _claim(settings: Settings, token: str) -> FeedbackClaim:
    return LinkSigner(settings.secret_key).read_feedback(
        token, max_age=settings.feedback_link_max_age
    )


@router.get(
    "",
    response_model=Confirmation,
    responses=problem_responses(400, 404, 409, 422),
    summary="What a one-tap link would do",
)
def confirm_by_link(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Query(min_length=10, max_length=500)],
    answer: Annotated[Answer | None, Query()] = None,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> Confirmation:
    """The links in the reporter's "resolved" message open this: it says what the answer will
    do and how to send it (a POST with the same token). Nothing changes until then, so a mail
    scanner opening the links answers nothing. `fixed` closes the issue, `not_fixed` reopens it
    and returns it to the agency; the links expire."""
    claim = _claim(settings, token)
    description = feedback.describe(session, claim=claim, answer=answer, rating=rating)
    body: dict[str, str | int] = {"token": token}
    if answer is not None:
        body["answer"] = answer.value
    if rating is not None:
        body["rating"] = rating
    return describe_link(
        settings.public_base_url,
        action="rating" if answer is None else answer.value,
        description=description,
        path="/feedback",
        body=body,
    )


@router.post(
    "",
    response_model=FeedbackRead,
    responses=problem_responses(400, 404, 409, 413, 415, 422),
    summary="Answer: fixed, not fixed, a rating, a comment",
)
def answer_with_comment(
    body: FeedbackRequest, session: WriteSessionDep, settings: SettingsDep
) -> FeedbackRead:
    """What the links' confirmation sends (the token from the link), with a comment if wanted."""
    claim = _claim(settings, body.token)
    issue, given = feedback.respond(
        session, claim=claim, answer=body.answer, rating=body.rating, comment=body.comment
    )
    return FeedbackRead(
        issue=issue.public_id,
        status=issue.status,
        answer=given.answer,
        rating=given.rating,
        comment=given.comment,
    )
