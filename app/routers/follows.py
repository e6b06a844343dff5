"""Following issues and watching areas; the one-click unsubscribe of every message."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from app import i18n
from app.deps import (
    CurrentUser,
    Idempotent,
    PathId,
    Reporter,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
)
from app.errors import ValidationFailed, problem_responses
from app.http.caching import Personal
from app.http.limits import Action, RateLimited, by_email
from app.http.route import UnitOfWorkRoute
from app.models import AreaWatch, Category, Language, LonLat
from app.routers.issues import CurrentIssue, UnhiddenIssue
from app.routers.mailed_links import describe_link
from app.schemas.account import Accepted, FollowByEmailRequest, LinkToken
from app.schemas.notification import Confirmation, FollowState, Outcome, WatchCreate, WatchRead
from app.schemas.problem import FieldProblem
from app.services.notifications import areas, follows
from app.services.notifications.account_mail import AccountLinks
from app.services.notifications.tokens import LinkSigner
from app.spatial.geojson import area_geometry, parse_area

# Every answer here is about its caller (or holds secrets): never stored.
router = APIRouter(tags=["following"], route_class=UnitOfWorkRoute, dependencies=[Personal])
Token = Annotated[str, Query(min_length=10, max_length=500, description="From the message.")]


@router.post(
    "/issues/{issue_id}/follow",
    response_model=FollowState,
    responses=problem_responses(400, 401, 404, 409),
    summary="Follow an issue",
)
def follow_issue(issue: UnhiddenIssue, session: SessionDep, user: Reporter) -> FollowState:
    """Be told of its public steps, with an account or only an `X-Device-Id`."""
    follows.follow(session, issue=issue, user=user)
    return FollowState(issue=issue.public_id, following=True)


@router.post(
    "/issues/{issue_id}/follow-by-email",
    status_code=202,
    response_model=Accepted,
    dependencies=[RateLimited(Action.verify, per=by_email), Idempotent],
    responses=problem_responses(400, 404, 409, 413, 415, 422, 429),
    summary="Follow an issue by e-mail, without an account",
)
def follow_issue_by_email(
    issue: UnhiddenIssue, body: FollowByEmailRequest, session: SessionDep
) -> Accepted:
    """Always 202 "check your e-mail": the address is sent one message, a link whose POST
    (/follow-by-email/confirm) starts the follow. Until its owner confirms, it receives nothing
    else, so no one can have messages sent to an address that is not theirs."""
    follows.request_follow_by_email(
        session, issue=issue, email=str(body.email), language=body.language
    )
    return Accepted(detail=i18n.t("account.check_email", i18n.current()))


def _read_follow_link(settings: SettingsDep, token: str) -> tuple[int, str, Language]:
    return AccountLinks(settings.secret_key).read_follow(
        token, max_age=dt.timedelta(hours=settings.sign_up_link_hours)
    )


@router.get(
    "/follow-by-email/confirm",
    response_model=Confirmation,
    responses=problem_responses(400, 422),
    summary="What the mailed follow link does (no login)",
)
def describe_follow_link(settings: SettingsDep, token: Token) -> Confirmation:
    _read_follow_link(settings, token)
    return describe_link(
        settings.public_base_url,
        action="follow_by_email",
        description=i18n.text("account.confirm_follow"),
        path="/follow-by-email/confirm",
        body={"token": token},
    )


@router.post(
    "/follow-by-email/confirm",
    response_model=FollowState,
    responses=problem_responses(400, 404, 413, 415, 422),
    summary="Confirm following an issue by e-mail",
)
def confirm_follow_by_email(
    body: LinkToken, session: WriteSessionDep, settings: SettingsDep
) -> FollowState:
    """The token from the mailed link (valid `sign_up_link_hours`; again is harmless): the
    address is verified and follows the issue, with the one-click unsubscribe in every
    message."""
    issue_id, email, language = _read_follow_link(settings, body.token)
    issue, _ = follows.confirm_follow_by_email(
        session, issue_id=issue_id, email=email, language=language
    )
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


def _watch_read(session: SessionDep, watch: AreaWatch) -> WatchRead:
    codes = dict(
        session.execute(
            select(Category.id, Category.code).where(Category.id.in_(watch.category_ids))
        ).all()
    )
    return WatchRead(
        id=watch.id,
        area=area_geometry(watch.area) if watch.area is not None else None,
        latitude=watch.center.lat if watch.center else None,
        longitude=watch.center.lon if watch.center else None,
        radius_m=watch.radius_m,
        categories=sorted(codes[i] for i in watch.category_ids if i in codes),
        created_at=watch.created_at,
    )


@router.post(
    "/watches",
    status_code=201,
    response_model=WatchRead,
    responses=problem_responses(400, 401, 413, 415, 422),
    summary="Watch an area for new reports",
)
def create_watch(
    body: WatchCreate, session: SessionDep, settings: SettingsDep, user: Reporter
) -> WatchRead:
    """A polygon, or a point and radius, and optionally some categories (FixMyStreet's local
    alerts). New reports there reach you on your channels."""
    if body.radius_m is not None and body.radius_m > settings.max_radius_m:
        raise ValidationFailed(
            f"radius_m may be at most {settings.max_radius_m:g} metres; draw an area instead.",
            errors=[FieldProblem(location="body.radius_m", message="too large", code="too_large")],
        )
    center = (
        LonLat(body.longitude, body.latitude)
        if body.longitude is not None and body.latitude is not None
        else None
    )
    watch = areas.create_watch(
        session,
        user=user,
        area=parse_area(body.area, location="body.area") if body.area is not None else None,
        center=center,
        radius_m=body.radius_m,
        category_codes=body.categories,
    )
    return _watch_read(session, watch)


@router.get(
    "/watches",
    response_model=list[WatchRead],
    responses=problem_responses(400, 401),
    summary="Your area watches",
)
def list_watches(session: SessionDep, user: CurrentUser) -> list[WatchRead]:
    return [_watch_read(session, w) for w in areas.list_watches(session, user=user)]


@router.delete(
    "/watches/{watch_id}",
    status_code=204,
    responses=problem_responses(400, 401, 404),
    summary="Stop watching an area",
)
def delete_watch(session: SessionDep, user: Reporter, watch_id: PathId) -> Response:
    areas.delete_watch(session, user=user, watch_id=watch_id)
    return Response(status_code=204)


@router.get(
    "/unsubscribe",
    response_model=Confirmation,
    responses=problem_responses(400, 422),
    summary="What the unsubscribe link in a message would end (no login)",
)
def confirm_unsubscribe(settings: SettingsDep, token: Token) -> Confirmation:
    """Opening the link ends nothing (mail scanners open every link): it says what the POST to
    the same link ends, following the issue, the area watch, or a staff member's new-issue
    alerts. Mail clients send that POST themselves from the List-Unsubscribe header."""
    ref = LinkSigner(settings.secret_key).read_unsubscribe(token)
    return describe_link(
        settings.public_base_url,
        action="unsubscribe",
        description=follows.describe_unsubscribe(ref),
        path="/unsubscribe",
        query={"token": token},
        body={"List-Unsubscribe": "One-Click"},
        form=True,
    )


@router.post(
    "/unsubscribe",
    response_model=Outcome,
    responses=problem_responses(400, 422),
    summary="One-click unsubscribe (RFC 8058)",
)
def unsubscribe_one_click(session: WriteSessionDep, settings: SettingsDep, token: Token) -> Outcome:
    """What mail clients POST (body `List-Unsubscribe=One-Click`) to the link in the
    List-Unsubscribe header, and what the link's confirmation sends. Idempotent."""
    ref = LinkSigner(settings.secret_key).read_unsubscribe(token)
    return Outcome(detail=follows.unsubscribe(session, ref=ref).render(i18n.current()))
