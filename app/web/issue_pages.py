"""The issue page, what its forms do, and the pages behind the links in messages.

Every change is a POST with the reader's form token, made by the same service call as the
JSON API's, then a 303 back to the page. The links in e-mails open a page that says what its
button will do: opening a link changes nothing (mail scanners open every link)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import i18n
from app.db import SessionDep
from app.deps import PhotoLinksDep
from app.errors import ValidationFailed
from app.http.limits import Action, RateLimited
from app.http.route import UnitOfWorkRoute
from app.models import Agency, Answer, Issue, IssueStatus
from app.models.base import utcnow
from app.routers.comments import comment_reads
from app.routers.feed import last_event_id, stream_events
from app.routers.presenters import issue_read
from app.services import (
    conversation,
    duplicates,
    feed,
    issues,
    moderation,
    permissions,
    progress,
)
from app.services.notifications import feedback
from app.services.notifications import follows as follows_service
from app.services.notifications.tokens import FeedbackClaim, LinkSigner
from app.web.context import Page, PageDep, by_page_visitor, redirect, render
from app.web.forms import form_of

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)
RATINGS = (1, 2, 3, 4, 5)
Token = Annotated[str, Query(min_length=10, max_length=500)]


def routed_agencies(session: Session, issue: Issue) -> list[Agency]:
    """Who handles it: the claiming agency, else every agency it was routed to."""
    if issue.agency is not None:
        return [issue.agency]
    ids = permissions.candidate_agency_ids(session, issue)
    return list(session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.id)))


def _may_answer(page: Page, issue: Issue) -> bool:
    return (
        permissions.is_reporter(page.user, issue)
        and issue.status == IssueStatus.resolved
        and issue.resolved_at is not None
    )


def _issue(session: Session, page: Page, public_id: str) -> Issue:
    return issues.get_visible_issue(session, public_id, page.user)


@router.get("/issues/{public_id}", name="issue_page")
def issue_page(
    public_id: str, page: PageDep, session: SessionDep, links: PhotoLinksDep
) -> Response:
    issue = _issue(session, page, public_id)
    read = issue_read(session, issue, page.user, page.settings.reopen_window, links)
    viewer = conversation.Viewer.of(session, issue, page.user)
    comments = comment_reads(
        session,
        conversation.list_comments(session, issue=issue, viewer=viewer),
        issue,
        viewer,
        page.lang,
    )
    return render(
        page,
        "issue.html",
        issue=read,
        agencies=routed_agencies(session, issue),
        progress=progress.of_issue(session, issue=issue, now=utcnow(), lang=page.lang),
        events=issues.list_events(session, issue=issue, viewer=page.user),
        comments=comments,
        following=follows_service.is_following(session, issue=issue, user=page.user),
        is_reporter=permissions.is_reporter(page.user, issue),
        may_answer=_may_answer(page, issue),
        ratings=RATINGS,
    )


def _step_happened(delivery: feed.Delivery) -> str:
    # Only which step: the page re-reads itself, so it shows nothing a reader may not see.
    return json.dumps({"id": delivery.event.id})


@router.get("/issues/{public_id}/live", response_model=None)
def issue_live(
    public_id: str,
    request: Request,
    page: PageDep,
    session: SessionDep,
    after: Annotated[int | None, Depends(last_event_id)],
) -> Response:
    """The issue's public steps as they happen (Server-Sent Events), for its open page to
    show them without a reload."""
    issue = _issue(session, page, public_id)
    return stream_events(
        request,
        session,
        page.settings,
        audience=feed.IssueReader(issue.id),
        after=after,
        message=_step_happened,
    )


def _back(page: Page, issue: Issue, anchor: str = "") -> Response:
    return redirect(page, f"/issues/{issue.public_id}?lang={page.lang.value}{anchor}")


@router.post(
    "/issues/{public_id}/support", dependencies=[RateLimited(Action.support, by_page_visitor)]
)
async def support_issue(
    public_id: str, request: Request, page: PageDep, session: SessionDep
) -> Response:
    """ "Me too": a resident who has the same problem backs it once (and follows it)."""
    await form_of(request, page)
    issue = _issue(session, page, public_id)
    moderation.refuse_if_hidden(issue)
    duplicates.support(session, issue=issue, user=page.reporter(session))
    return _back(page, issue, "#support")


@router.post(
    "/issues/{public_id}/follow", dependencies=[RateLimited(Action.support, by_page_visitor)]
)
async def follow_issue(
    public_id: str, request: Request, page: PageDep, session: SessionDep
) -> Response:
    form = await form_of(request, page)
    issue = _issue(session, page, public_id)
    user = page.reporter(session)
    if form.get("follow") == "0":
        follows_service.unfollow(session, issue=issue, user=user)
    else:
        moderation.refuse_if_hidden(issue)
        follows_service.follow(session, issue=issue, user=user)
    return _back(page, issue, "#follow")


@router.post(
    "/issues/{public_id}/comments", dependencies=[RateLimited(Action.comment, by_page_visitor)]
)
async def comment_on_issue(
    public_id: str, request: Request, page: PageDep, session: SessionDep
) -> Response:
    form = await form_of(request, page)
    issue = _issue(session, page, public_id)
    moderation.refuse_if_hidden(issue)
    conversation.add_comment(
        session,
        issue=issue,
        author=page.reporter(session),
        body=form.text("body", max_length=4000),
        internal=False,
        zone=page.zone,
    )
    return _back(page, issue, "#comments")


def _answer_of(form_answer: str | None) -> Answer | None:
    return Answer(form_answer) if form_answer and form_answer in Answer.__members__ else None


def _rating_of(value: str | None) -> int | None:
    return int(value) if value in {str(r) for r in RATINGS} else None


@router.post("/issues/{public_id}/answer")
async def answer_issue(
    public_id: str, request: Request, page: PageDep, session: SessionDep
) -> Response:
    """The reporter, on the page after a resolution: is it fixed? and 1-5 stars with a
    comment. The same rule as the message's signed links."""
    form = await form_of(request, page)
    issue = _issue(session, page, public_id)
    if not _may_answer(page, issue) or page.user is None or issue.resolved_at is None:
        raise ValidationFailed(i18n.text("web.error.not_answerable"))
    answer, rating = _answer_of(form.get("answer")), _rating_of(form.get("rating"))
    if answer is None and rating is None:
        raise ValidationFailed(i18n.text("error.link.no_answer"))
    claim = FeedbackClaim(issue.id, page.user.id, issue.resolved_at)
    comment = form.get("comment") or None
    feedback.respond(session, claim=claim, answer=answer, rating=rating, comment=comment)
    return _back(page, issue, "#answer")


def _feedback_claim(page: Page, token: str) -> FeedbackClaim:
    settings = page.settings
    return LinkSigner(settings.secret_key).read_feedback(
        token, max_age=settings.feedback_link_max_age
    )


@router.get("/issues/{public_id}/feedback", name="feedback_page")
def feedback_page(
    public_id: str,
    token: Token,
    page: PageDep,
    session: SessionDep,
    answer: Annotated[Answer | None, Query()] = None,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> Response:
    """What the "is it fixed?" and star links of the resolved message open."""
    claim = _feedback_claim(page, token)
    description = feedback.describe(session, claim=claim, answer=answer, rating=rating)
    issue = issues.get_issue(session, public_id)
    return render(
        page,
        "confirm.html",
        issue_id=issue.public_id,
        title=issue.title,
        description=description.render(page.lang),
        action=f"/issues/{issue.public_id}/feedback",
        fields={
            "token": token,
            **({"answer": answer.value} if answer is not None else {}),
            **({"rating": str(rating)} if rating is not None else {}),
        },
        with_comment=True,
        button=page.t(f"web.confirm.button.{answer.value if answer else 'rating'}"),
    )


@router.post("/issues/{public_id}/feedback")
async def send_feedback(
    public_id: str, request: Request, page: PageDep, session: SessionDep
) -> Response:
    form = await form_of(request, page)
    claim = _feedback_claim(page, form.get("token") or "")
    issue, _ = feedback.respond(
        session,
        claim=claim,
        answer=_answer_of(form.get("answer")),
        rating=_rating_of(form.get("rating")),
        comment=form.get("comment") or None,
    )
    return _back(page, issue, "#answer")


@router.get("/issues/{public_id}/unsubscribe", name="unsubscribe_page")
def unsubscribe_page(public_id: str, token: Token, page: PageDep, session: SessionDep) -> Response:
    """What the unsubscribe link of a message opens: its button ends that subscription."""
    ref = LinkSigner(page.settings.secret_key).read_unsubscribe(token)
    issue = issues.get_issue(session, public_id)
    return render(
        page,
        "confirm.html",
        issue_id=issue.public_id,
        title=issue.title,
        description=follows_service.describe_unsubscribe(ref).render(page.lang),
        action=f"/issues/{issue.public_id}/unsubscribe",
        fields={"token": token},
        with_comment=False,
        button=page.t("web.confirm.button.unsubscribe"),
    )


@router.post("/issues/{public_id}/unsubscribe")
async def unsubscribe(
    public_id: str, request: Request, page: PageDep, session: SessionDep
) -> Response:
    form = await form_of(request, page)
    ref = LinkSigner(page.settings.secret_key).read_unsubscribe(form.get("token") or "")
    done = follows_service.unsubscribe(session, ref=ref)
    issue = issues.get_issue(session, public_id)
    return render(page, "done.html", issue_id=issue.public_id, message=done.render(page.lang))
