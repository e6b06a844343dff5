"""The agency desk: staff sign in, work their queue (most at risk first), claim, move issues on
with a public note or a response template, transfer, act on many at once, and see the queue
change live (the feed's Server-Sent Events). Admins also get the unrouted queue.

Each action is the lifecycle service the API's transitions call; the form carries the version
the clerk saw, as the API's If-Match does, so a stale page cannot undo a colleague's change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import i18n
from app.db import SessionDep
from app.deps import CursorsDep, PhotoLinksDep, SpatialDep
from app.errors import Unauthenticated, ValidationFailed
from app.http.limits import Action as Limit
from app.http.limits import RateLimited
from app.http.route import UnitOfWorkRoute
from app.models import Issue, Resolution, Role, SessionEnd, User
from app.routers.feed import feed_response, last_event_id
from app.routers.presenters import issue_reads
from app.routers.work import AssigneeFilter, queue_filter
from app.services import (
    accounts,
    bulk,
    catalog,
    issues,
    lifecycle,
    metrics,
    response_templates,
    sessions,
    stats,
)
from app.services.issues import IssueFilter, Sort
from app.services.lifecycle import Action
from app.web.context import (
    SESSION_COOKIE,
    Page,
    PageDep,
    by_form_email,
    read_session_cookie,
    redirect,
    render,
    session_cookie,
    set_cookie,
)
from app.web.forms import Form, form_of
from app.web.paging import KeysetDep, KeysetPosition

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)
QUEUE_SIZE = 100
# What a desk form may ask for, with the note it carries.
DESK_ACTIONS = (Action.claim, Action.start, Action.resolve, Action.close, Action.transfer)


def _safe_next(target: str | None) -> str:
    # Only a path of this site: never another host (an open redirect after sign-in).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/desk"


@router.get("/sign-in", name="sign_in_page")
def sign_in_page(
    page: PageDep, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    return render(page, "sign_in.html", next=_safe_next(next), problem=None, email="")


@router.post("/sign-in", dependencies=[RateLimited(Limit.login, by_form_email)])
async def sign_in(request: Request, page: PageDep, session: SessionDep) -> Response:
    form = await form_of(request, page)
    email, target = form.get("email") or "", _safe_next(form.get("next"))
    try:
        user = accounts.authenticate(session, email=email, password=form.fields.get("password", ""))
    except Unauthenticated as refused:
        return render(
            page,
            "sign_in.html",
            status=401,
            next=target,
            problem=refused.detail_in(page.lang),
            email=email,
        )
    login = sessions.start_login(session, user=user)
    response = redirect(page, target)
    set_cookie(
        response,
        SESSION_COOKIE,
        session_cookie(page.settings, user_id=user.id, session_id=login),
        max_age=page.settings.refresh_token_days * 86_400,
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, page: PageDep, session: SessionDep) -> Response:
    await form_of(request, page)
    found = read_session_cookie(page.settings, request.cookies.get(SESSION_COOKIE, ""))
    if found is not None:
        sessions.end(session, session_id=found[1], reason=SessionEnd.logout)
    response = redirect(page, f"/?lang={page.lang.value}")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


def _desk_user(page: Page) -> User | None:
    user = page.user
    return user if user is not None and (user.role.is_staff or user.role == Role.admin) else None


def _sign_in_first(page: Page) -> Response:
    return redirect(page, f"/sign-in?lang={page.lang.value}&next={quote('/desk')}")


def _queue(
    session: Session,
    page: Page,
    user: User,
    position: KeysetPosition,
    spatial: Any,
    cursors: Any,
    links: Any,
) -> dict[str, Any]:
    """A page of the clerk's queue (their agency's issues and those routed to it, most at risk
    first); for admins, the issues no agency covers."""
    if user.agency_id is not None:
        issue_filter = queue_filter(IssueFilter(), user.agency_id, AssigneeFilter((user.id,), True))
    else:
        issue_filter = IssueFilter(unrouted=True, include_hidden=True)
    rows, next_cursor = issues.list_issues(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=issue_filter,
        limit=QUEUE_SIZE,
        cursor=position.after,
        with_reporter=True,
        default_sort=Sort.risk,
    )
    reads = issue_reads(session, rows, user, page.settings.reopen_window, links)
    agency = catalog.get_agency(session, user.agency_id) if user.agency_id else None
    return {
        "queue": reads,
        # The pager's links lead to whole desk pages, also from the queue read on its own.
        "pager": position.pager(page.request, next_cursor, path="/desk"),
        "unrouted": user.agency_id is None,
        "templates": response_templates.list_templates(session, agency=agency) if agency else [],
        "agencies": catalog.list_agencies(session),
        "resolutions": list(Resolution),
        "desk_actions": [a.value for a in DESK_ACTIONS],
        "agency": agency,
    }


def _kpis(session: Session, page: Page, user: User, spatial: Any) -> dict[str, Any]:
    scope = stats.Scope(session, spatial, IssueFilter(agency_id=user.agency_id))
    zone = page.zone
    reported, resolved = (
        {p["period"]: p["count"] for p in stats.series(scope, event, stats.Period.day, zone)}
        for event in (stats.Event.reported, stats.Event.resolved)
    )
    days = _every_day(reported.keys() | resolved.keys())
    chart = {
        "days": days,
        "reported": [reported.get(d, 0) for d in days],
        "resolved": [resolved.get(d, 0) for d in days],
        "labels": [page.t("web.desk.chart_reported"), page.t("web.desk.chart_resolved")],
    }
    return {
        "kpis": metrics.loop_metrics(session, metrics.MetricsFilter(agency_id=user.agency_id)),
        "chart": json.dumps(chart),
    }


def _every_day(days: Iterable[str]) -> list[str]:
    """Each day from the first to the last of `days` (ISO dates): a day with nothing reported
    or resolved is a zero on the chart, not a line drawn across it."""
    known = sorted(days)
    if not known:
        return []
    first, last = dt.date.fromisoformat(known[0]), dt.date.fromisoformat(known[-1])
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


@router.get("/desk", name="desk_page")
def desk_page(
    page: PageDep,
    session: SessionDep,
    position: KeysetDep,
    spatial: SpatialDep,
    cursors: CursorsDep,
    links: PhotoLinksDep,
) -> Response:
    user = _desk_user(page)
    if user is None:
        return _sign_in_first(page)
    return render(
        page,
        "desk.html",
        clerk=user,
        done=page.request.query_params.get("done"),
        failed=page.request.query_params.get("failed"),
        **_queue(session, page, user, position, spatial, cursors, links),
        **_kpis(session, page, user, spatial),
    )


@router.get("/desk/queue")
def desk_queue(
    page: PageDep,
    session: SessionDep,
    position: KeysetDep,
    spatial: SpatialDep,
    cursors: CursorsDep,
    links: PhotoLinksDep,
) -> Response:
    """Only the queue, for the page to swap in when the live feed says something changed."""
    user = _desk_user(page)
    if user is None:
        return _sign_in_first(page)
    return render(
        page, "queue.html", **_queue(session, page, user, position, spatial, cursors, links)
    )


@router.get("/desk/feed", response_model=None)
def desk_feed(
    request: Request,
    page: PageDep,
    session: SessionDep,
    after: Annotated[int | None, Depends(last_event_id)],
) -> Response:
    user = _desk_user(page)
    if user is None:
        return _sign_in_first(page)
    return feed_response(request, session, page.settings, user=user, after=after)


def _version(form: Form) -> int | None:
    raw = form.get("version") or ""
    return int(raw) if raw.isdigit() else None


def _note(session: Session, page: Page, form: Form, issue: Issue, user: User) -> str | None:
    """The typed note, or the chosen response template filled in for this issue."""
    template_id = form.get("template") or ""
    if template_id.isdigit() and user.agency_id is not None:
        agency = catalog.get_agency(session, user.agency_id)
        template = response_templates.get_template(
            session, agency=agency, template_id=int(template_id)
        )
        return response_templates.render(
            template,
            issue=issue,
            agency=agency,
            languages=[page.lang],
            zone=page.zone,
        )
    return form.get("note") or None


def _step(
    session: Session, page: Page, form: Form, issue: Issue, user: User, version: int | None
) -> None:
    action = form.get("action") or ""
    if action not in {a.value for a in DESK_ACTIONS}:
        raise ValidationFailed(i18n.text("web.error.unknown_action"))
    resolution = form.get("resolution") or "fixed"
    to_agency = form.get("to_agency") or ""
    lifecycle.transition(
        session,
        issue=issue,
        action=Action(action),
        actor=user,
        expected_version=version,
        reopen_window=page.settings.reopen_window,
        note=_note(session, page, form, issue, user),
        resolution=Resolution(resolution)
        if action == "resolve" and resolution in Resolution.__members__
        else None,
        to_agency_id=int(to_agency) if action == "transfer" and to_agency.isdigit() else None,
    )


@router.post("/desk/issues/{public_id}")
async def act_on_issue(
    public_id: str, request: Request, page: PageDep, session: SessionDep
) -> Response:
    form = await form_of(request, page)
    user = _desk_user(page)
    if user is None:
        return _sign_in_first(page)
    issue = issues.get_visible_issue(session, public_id, user)
    _step(session, page, form, issue, user, _version(form))
    return redirect(page, f"/desk?lang={page.lang.value}&done={quote(issue.public_id)}#queue")


@router.post("/desk/bulk")
async def act_on_many(request: Request, page: PageDep, session: SessionDep) -> Response:
    """The same step for every ticked issue, each on its own (one failing changes no other)."""
    form = await form_of(request, page)
    user = _desk_user(page)
    if user is None:
        return _sign_in_first(page)
    # Each ticked box is "id:version", the version the clerk saw (as If-Match in the API).
    chosen: list[tuple[str, bulk.Version]] = []
    for value in form.all("issue")[:QUEUE_SIZE]:
        public_id, _, version = value.partition(":")
        chosen.append((public_id, int(version) if version.isdigit() else None))

    def change(issue: Issue, version: int | None) -> None:
        _step(session, page, form, issue, user, version)

    outcomes = bulk.apply_each(session, actor=user, items=chosen, change=change)
    failed = sum(1 for o in outcomes if o.error is not None)
    return redirect(
        page,
        f"/desk?lang={page.lang.value}&done={len(outcomes) - failed}&failed={failed}#queue",
    )
