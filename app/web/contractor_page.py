"""The contractor's page: what the signed, expiring link of a hand-over opens. Without an account
the contractor reads the work (the place, the problem, the agency's request), adds after-fix
photos and reports the work done, by the same service calls as the JSON API's
(`routers.contractors`) and with the same allowance per link. Each form is a POST with the
reader's form token, then a 303 back to the page; a link that no longer works opens a page
saying why (410)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.db import SessionDep
from app.deps import PhotoLinksDep, PhotoStoreDep, PhotoWorkersDep
from app.errors import DomainError, field_message
from app.http.route import UnitOfWorkRoute
from app.routers.contractors import ByLink, LinkId, may_add_after_photos
from app.routers.uploads import clean_upload
from app.schemas.contractor import WorkDoneRequest
from app.services import contractors, photos
from app.web.context import CSRF_FIELD, Page, PageDep, redirect, render
from app.web.forms import checked, form_of

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)


def _page(
    page: Page,
    session: Session,
    link_id: int,
    links: photos.PhotoLinks,
    *,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    link, issue = contractors.open_link(session, link_id)
    return render(
        page,
        "contractor.html",
        status=status,
        work=contractors.work_read(session, link=link, issue=issue, links=links),
        base=f"/contractor/{page.request.path_params['token']}",
        max_photos=page.settings.photo_max_per_issue,
        added=page.request.query_params.get("added"),
        done=page.request.query_params.get("done") == "1",
        problem=problem,
    )


def _back(page: Page, request: Request, outcome: str) -> Response:
    token = request.path_params["token"]
    return redirect(page, f"/contractor/{token}?lang={page.lang.value}&{outcome}")


@router.get("/contractor/{token}", dependencies=ByLink, name="contractor_page")
def contractor_page(
    link_id: LinkId, page: PageDep, session: SessionDep, links: PhotoLinksDep
) -> Response:
    return _page(page, session, link_id, links)


@router.post("/contractor/{token}/photos", dependencies=ByLink)
async def add_after_fix_photos(
    link_id: Annotated[int, Depends(may_add_after_photos)],
    request: Request,
    page: PageDep,
    session: SessionDep,
    store: PhotoStoreDep,
    workers: PhotoWorkersDep,
    links: PhotoLinksDep,
) -> Response:
    """A multipart form with one or more `photo` files: the issue's resolution photos."""
    fields, cleaned = await clean_upload(
        request, page.settings, workers, fields={CSRF_FIELD}, browser_form=True
    )
    checked(page, fields)
    if not cleaned:
        problem = page.t("web.contractor.no_photo")
        return _page(page, session, link_id, links, problem=problem, status=422)
    link, issue = contractors.open_link(session, link_id, lock=True)
    try:
        contractors.add_photos(
            session,
            store=store,
            link=link,
            issue=issue,
            cleaned=cleaned,
            max_per_issue=page.settings.photo_max_per_issue,
        )
    except DomainError as refused:  # no room left for this many photos
        session.rollback()
        problem = refused.detail_in(page.lang)
        return _page(page, session, link_id, links, problem=problem, status=refused.status)
    return _back(page, request, f"added={len(cleaned)}")


@router.post("/contractor/{token}/done", dependencies=ByLink)
async def report_work_done(
    link_id: LinkId, request: Request, page: PageDep, session: SessionDep, links: PhotoLinksDep
) -> Response:
    """The work is done, with an optional note for the agency, which confirms it."""
    form = await form_of(request, page)
    try:
        body = WorkDoneRequest(note=form.get("note") or None)
    except ValidationError as invalid:
        problem = field_message(invalid.errors()[0], page.lang)
        return _page(page, session, link_id, links, problem=problem, status=422)
    link, issue = contractors.open_link(session, link_id, lock=True)
    contractors.report_done(session, link=link, issue=issue, note=body.note)
    return _back(page, request, "done=1")
