"""The report form: a plain multipart form that works without JavaScript (the map, the device's
location, categories offered at the point and photo resizing are enhancements), sent to the
same services as `POST /api/v1/issues`.

Each rendering carries one idempotency key: a double click or a resubmit of the same form is the
same request and lands on the issue the first one made.

The chosen category's questions are part of the form: without JavaScript the "show the
questions" button posts it back (`step=questions`) and it comes back with them; with it the
page fetches them as soon as a category is chosen. An emergency (the category, or an answer) is
stopped by the emergency service, counted as a stop from the web, and the form shows whom to call
instead of its send button."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.db import SessionDep
from app.deps import IdempotentReplay, PhotoStoreDep, PhotoWorkersDep, SpatialDep
from app.errors import DomainError, EmergencyReport, field_message
from app.http.limits import Action, RateLimited
from app.http.route import UnitOfWorkRoute
from app.models import AttributeDatatype, Category, LonLat, PhotoKind
from app.routers.uploads import clean_upload, is_multipart
from app.schemas.issue import IssueCreate
from app.services import catalog, emergencies, idempotency, issues, photos
from app.services.attributes import Answers
from app.spatial import SpatialBackend
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
from app.web.maps import DISTRICTS_ZOOM

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)
FIELDS = {
    "latitude",
    "longitude",
    "category",
    "title",
    "description",
    CSRF_FIELD,
    "idempotency_key",
    "step",
}
# An answer is `attribute[code]`, a ticked box of a multiple choice `attribute[code][key]` (names
# unique per field, as Open311's form names them).
ANSWER_PREFIX = "attribute["
ANSWER_FIELD = re.compile(r"attribute\[([^\[\]]{1,64})\](?:\[[^\[\]]{1,64}\])?")
# Where an answer's problem is shown: next to its field.
ANSWER_LOCATION = "attribute[{code}]"


@dataclass(frozen=True)
class Stop:
    """An emergency the form refused: what to do, and the number to call if there is one."""

    message: str
    number: str | None


def _form_page(
    page: Page,
    session: Session,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    problem: str | None = None,
    stop: Stop | None = None,
    status: int = 200,
) -> Response:
    categories: list[Category] = catalog.list_categories(session)
    return render(
        page,
        "report.html",
        status=status,
        categories=categories,
        chosen=_chosen(categories, values.get("category")),
        values=values,
        errors=errors,
        problem=problem,
        stop=stop,
        idempotency_key=values.get("idempotency_key") or uuid.uuid4().hex,
        max_photos=page.settings.photo_max_per_issue,
        display_px=page.settings.photo_display_px,
        tile_url=page.settings.tile_url,
        tile_attribution=page.settings.tile_attribution,
        districts_zoom=DISTRICTS_ZOOM,
    )


@router.get("/report", name="report_page")
def report_page(page: PageDep, session: SessionDep) -> Response:
    if page.user is None and page.device_id is None:
        # The anonymous resident's device id exists before the first report, so a double click
        # of it carries the same one twice (its citizen is made by the report).
        page.cookies[DEVICE_COOKIE] = secrets.token_hex(24)
    # With a category (the page's script asks so when one is chosen), its questions too.
    values = {
        k: page.request.query_params.get(k, "") for k in ("latitude", "longitude", "category")
    }
    return _form_page(page, session, values=values, errors={})


def _chosen(categories: Sequence[Category], code: str | None) -> Category | None:
    return next((c for c in categories if c.code == code), None) if code else None


def _answers(fields: dict[str, str], category: Category | None, page: Page) -> Answers:
    """The answers the form carries, as the services take them: a list for ticked boxes, and a
    date and time typed without a zone read in the city's time zone (what the reader means)."""
    answers: dict[str, list[str]] = {}
    for name, value in fields.items():
        if (found := ANSWER_FIELD.fullmatch(name)) and value.strip():
            answers.setdefault(found[1], []).append(value)
    dated = {
        a.code
        for a in (category.attributes if category else ())
        if a.datatype == AttributeDatatype.datetime
    }
    return {
        code: [_in_zone(v, page) if code in dated else v for v in values]
        for code, values in answers.items()
    }


def _in_zone(value: str, page: Page) -> str:
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return value  # the attribute check words the refusal
    return (moment if moment.tzinfo else moment.replace(tzinfo=page.zone)).isoformat()


def _stopped(page: Page, refused: EmergencyReport) -> Stop:
    number = refused.extensions.get("emergency_number")
    return Stop(refused.detail_in(page.lang), number if isinstance(number, str) else None)


def _show_questions(
    page: Page,
    session: Session,
    spatial: SpatialBackend,
    *,
    fields: dict[str, str],
    body: IssueCreate | dict[str, str],
) -> Response:
    """The form again with the chosen category's questions; an emergency category or answer is
    stopped here already, before anything else is typed."""
    category = _chosen(catalog.list_categories(session), fields.get("category"))
    if category is None:
        return _form_page(page, session, values=fields, errors={})
    point = None if isinstance(body, dict) else LonLat(body.longitude, body.latitude)
    try:
        emergencies.stop_if_emergency(
            session,
            category=category,
            answers=_answers(fields, category, page),
            district_id=None if point is None else spatial.district_id_at(session, point=point),
            channel="web",
            fallback_number=page.settings.emergency_number,
        )
    except EmergencyReport as refused:
        session.rollback()  # counts the stop (emergencies.stop_if_emergency)
        return _form_page(
            page, session, values=fields, errors={}, stop=_stopped(page, refused), status=422
        )
    return _form_page(page, session, values=fields, errors={})


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
            request,
            page.settings,
            workers,
            fields=FIELDS,
            answer_prefix=ANSWER_PREFIX,
            browser_form=True,
        )
    checked(page, fields)
    body = _validated(fields, page)
    if fields.get("step") == "questions":
        return await run_in_threadpool(
            _show_questions, page, session, spatial, fields=fields, body=body
        )
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
        category = _chosen(catalog.list_categories(session), body.category)
        issue = issues.create_issue(
            session,
            spatial=spatial,
            reporter=reporter,
            category_code=body.category,
            title=body.title,
            description=body.description,
            location=LonLat(body.longitude, body.latitude),
            address=None,
            answers=_answers(fields, category, page),
            field_names={"category": "category", "attributes": ANSWER_LOCATION},
            channel="web",
            emergency_number=page.settings.emergency_number,
        ).issue
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
        # Nothing of the report is kept (an emergency stop is counted on this rollback); the
        # form comes back with what was typed and why, each answer's problem beside it.
        session.rollback()
        request.state.idempotency_claim = None
        if isinstance(refused, EmergencyReport):
            stop = _stopped(page, refused)
            return _form_page(page, session, values=fields, errors={}, stop=stop, status=422)
        return _form_page(
            page,
            session,
            values=fields,
            errors={p.location: p.message for p in refused.errors_in(page.lang)},
            problem=None if refused.errors else refused.detail_in(page.lang),
            status=refused.status,
        )
    return redirect(page, f"/issues/{issue.public_id}?lang={page.lang.value}&reported=1")
