"""The report form: a plain multipart form that works without JavaScript (the map, the device's
location, categories offered at the point and photo resizing are enhancements), sent to the
same services as `POST /api/v1/issues`.

Each rendering carries one idempotency key: a double click or a resubmit of the same form is the
same request and lands on the issue the first one made."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.db import SessionDep
from app.deps import IdempotentReplay, PhotoStoreDep, PhotoWorkersDep, SpatialDep
from app.errors import DomainError, field_message
from app.http.limits import Action, RateLimited
from app.http.route import UnitOfWorkRoute
from app.models import Category, LonLat, PhotoKind
from app.routers.uploads import clean_upload, is_multipart
from app.schemas.issue import IssueCreate
from app.services import catalog, idempotency, issues, photos
from app.storage.images import CleanPhoto
from app.web.context import (
    CSRF_COOKIE,
    CSRF_FIELD,
    DEVICE_COOKIE,
    Page,
    PageDep,
    by_page_visitor,
    redirect,
    render,
)
from app.web.forms import checked, form_of

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)
FIELDS = {
    "latitude",
    "longitude",
    "category",
    "title",
    "description",
    CSRF_FIELD,
    "idempotency_key",
}


def _form_page(
    page: Page,
    session: Session,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    problem: str | None = None,
    status: int = 200,
) -> Response:
    categories: list[Category] = catalog.list_categories(session)
    return render(
        page,
        "report.html",
        status=status,
        categories=categories,
        values=values,
        errors=errors,
        problem=problem,
        idempotency_key=values.get("idempotency_key") or uuid.uuid4().hex,
        max_photos=page.settings.photo_max_per_issue,
        display_px=page.settings.photo_display_px,
        tile_url=page.settings.tile_url,
        tile_attribution=page.settings.tile_attribution,
    )


@router.get("/report", name="report_page")
def report_page(page: PageDep, session: SessionDep) -> Response:
    if page.user is None and page.device_id is None:
        # The anonymous resident's device id exists before the first report, so a double click
        # of it carries the same one twice (its citizen is made by the report).
        page.cookies[DEVICE_COOKIE] = secrets.token_hex(24)
    values = {k: page.request.query_params.get(k, "") for k in ("latitude", "longitude")}
    return _form_page(page, session, values=values, errors={})


def _principal(request: Request) -> str:
    # The form's own browser: the CSRF cookie is there before the first report (a device cookie
    # is made by it), so a double click of that first report is still one principal.
    nonce = request.cookies.get(CSRF_COOKIE, "")
    return f"page:{hashlib.sha256(nonce.encode()).hexdigest()[:48]}"


def _number(raw: str | None) -> float | str | None:
    # Typed coordinates are text; the schema (strict, as for JSON) wants numbers.
    if not raw:
        return None
    try:
        return float(raw.strip().replace(",", "."))
    except ValueError:
        return raw


def _validated(fields: dict[str, str], page: Page) -> IssueCreate | dict[str, str]:
    try:
        return IssueCreate.model_validate(
            {
                "category": fields.get("category", ""),
                "title": fields.get("title", "").strip(),
                "description": fields.get("description", "").strip(),
                "latitude": _number(fields.get("latitude")),
                "longitude": _number(fields.get("longitude")),
            }
        )
    except ValidationError as exc:
        return {str(e["loc"][0]): field_message(e, page.lang) for e in exc.errors()}


@router.post("/report", dependencies=[RateLimited(Action.report, by_page_visitor)])
async def send_report(
    request: Request,
    page: PageDep,
    session: SessionDep,
    spatial: SpatialDep,
    store: PhotoStoreDep,
    workers: PhotoWorkersDep,
) -> Response:
    cleaned: list[CleanPhoto] = []
    if not is_multipart(request):
        fields = (await form_of(request, page)).fields
    else:
        fields, cleaned = await clean_upload(
            request, page.settings, workers, fields=FIELDS, browser_form=True
        )
    checked(page, fields)
    body = _validated(fields, page)
    if isinstance(body, dict):
        return _form_page(page, session, values=fields, errors=body, status=422)
    key = fields.get("idempotency_key", "")
    if 8 <= len(key) <= 255:
        digest = (
            getattr(request.state, "body_digest", None)
            or hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()
        )
        outcome = await run_in_threadpool(
            idempotency.claim,
            session,
            principal=_principal(request),
            key=key,
            request_fingerprint=idempotency.fingerprint("POST", "/report", digest),
            ttl=page.settings.idempotency_ttl,
        )
        if isinstance(outcome, idempotency.StoredResponse):
            raise IdempotentReplay(outcome)
        request.state.idempotency_claim = outcome
    try:
        reporter = page.reporter(session)
        issue = issues.create_issue(
            session,
            spatial=spatial,
            reporter=reporter,
            category_code=body.category,
            title=body.title,
            description=body.description,
            location=LonLat(body.longitude, body.latitude),
            address=None,
            field_names={"category": "category"},
        )
        if cleaned:
            photos.add_photos(
                session,
                store=store,
                issue=issue,
                uploader=reporter,
                kind=PhotoKind.report,
                photos=cleaned,
                max_per_issue=page.settings.photo_max_per_issue,
            )
    except DomainError as refused:
        # Nothing of the report is kept; the form comes back with what was typed and why.
        session.rollback()
        request.state.idempotency_claim = None
        return _form_page(
            page,
            session,
            values=fields,
            errors={},
            problem=refused.detail_in(page.lang),
            status=refused.status,
        )
    return redirect(page, f"/issues/{issue.public_id}?lang={page.lang.value}&reported=1")
