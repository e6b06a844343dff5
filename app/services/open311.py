"""Open311 GeoReport v2 over civicloop's issues: services, service requests and tokens.

Categories are the services and issues the service requests; creating one goes through
`issues.create_issue` like every other report. GeoReport's rules that have no counterpart in the
rest of the API live here: the two public statuses, the 90-day window, the jurisdiction check.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app import i18n
from app.errors import BadRequest, NotFound, Unauthenticated
from app.models import (
    Agency,
    Category,
    Issue,
    IssueEvent,
    IssueImport,
    IssueStatus,
    LonLat,
    Open311Submission,
    Photo,
    PhotoKind,
)
from app.services import accounts, catalog, issues, lifecycle, photos
from app.services.issues import IssueFilter
from app.services.notifications import follows
from app.spatial import BBox, SpatialBackend
from app.storage import PhotoStore
from app.storage.images import CleanPhoto

MAX_WINDOW = dt.timedelta(days=90)
# A page a phone holds (50 requests are about 45 KB of JSON); the spec's 1,000 on request.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_DESCRIPTION = 4000
# A request id list overrides every other argument; this many ids at most.
MAX_IDS = 1000


class Open311Status(StrEnum):
    open = "open"
    closed = "closed"


ISSUE_STATUSES = {
    Open311Status.open: (IssueStatus.open, IssueStatus.acknowledged, IssueStatus.in_progress),
    Open311Status.closed: (IssueStatus.resolved, IssueStatus.closed),
}


def public_status(status: IssueStatus) -> Open311Status:
    """GeoReport has two statuses: resolved and closed issues are closed, the rest open."""
    closed = status in ISSUE_STATUSES[Open311Status.closed]
    return Open311Status.closed if closed else Open311Status.open


class JurisdictionNotFound(NotFound):
    pass


class ServiceNotFound(NotFound):
    pass


def check_jurisdiction(configured: str, given: str | None) -> None:
    """One jurisdiction is served: jurisdiction_id may be left out, but a wrong one is an error."""
    if given and given != configured:
        raise JurisdictionNotFound(
            f"jurisdiction_id {given!r} is not served here; this endpoint serves {configured!r}."
        )


def list_services(
    session: Session, *, spatial: SpatialBackend, at: LonLat | None = None
) -> list[Category]:
    """Every active service; with `lat`/`long` (an extension, as FixMyStreet's), those offered
    at that point."""
    return catalog.offered_categories(session, spatial=spatial, at=at)


def get_service(session: Session, code: str) -> Category:
    category = session.scalar(
        select(Category)
        .where(Category.code == code, Category.is_active)
        .options(selectinload(Category.attributes))
    )
    if category is None:
        raise ServiceNotFound(f"service_code {code!r} not found: services.xml lists them.")
    return category


def _check_services(session: Session, codes: Sequence[str]) -> None:
    if not codes:
        return
    known = set(session.scalars(select(Category.code).where(Category.code.in_(codes))))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ServiceNotFound(f"service_code {', '.join(unknown)} not found: see services.xml.")


def service_notice(category: Category) -> str:
    """What the reporter may expect, from the category's service-level targets."""
    return (
        f"Acknowledged within {category.acknowledge_target_hours} hours and resolved within "
        f"{category.resolve_target_hours} hours of the report (service-level targets)."
    )


@dataclass(frozen=True)
class NewRequest:
    """A POST Service Request's arguments, as sent (empty ones as None)."""

    api_key: str | None
    service_code: str | None
    lat: float | None = None
    long: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    answers: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = None


def _location(request: NewRequest) -> LonLat:
    if (request.lat is None) != (request.long is None):
        raise BadRequest("lat and long go together: send both.")
    if request.lat is None or request.long is None:
        if request.address_string or request.address_id:
            raise BadRequest(
                "This jurisdiction places requests by position: send lat and long with the "
                "address_string or address_id (addresses alone cannot be located here)."
            )
        raise BadRequest("A location is required: lat and long (WGS84 degrees).")
    return LonLat(request.long, request.lat)


_EMAIL = TypeAdapter(EmailStr)


def _address(email: str | None) -> str | None:
    """The submitter's address, normalised, or None; one that cannot receive mail is refused
    rather than kept as a contact nobody can reach."""
    if not email:
        return None
    try:
        # The same check as every EmailStr of the JSON API (pydantic's, by email-validator).
        _EMAIL.validate_python(email.strip())
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise BadRequest(
            f"email is not an e-mail address ({reason}); send the submitter's own."
        ) from None
    return email.strip().lower()


@dataclass(frozen=True)
class Media:
    """The photo files sent with a request (already cleaned), and where they go."""

    photos: Sequence[CleanPhoto]
    store: PhotoStore
    max_per_issue: int


def submit(
    session: Session,
    *,
    spatial: SpatialBackend,
    request: NewRequest,
    emergency_number: str,
    media: Media | None = None,
) -> tuple[Issue, Open311Submission]:
    """Create the request as an issue reported by the API key's owner; the contact details go
    with it into private storage, its media files become the report's photos. An emergency is
    refused with the number to call."""
    if not request.api_key:
        raise Unauthenticated("api_key is required to submit a service request.")
    api_key, owner = accounts.api_key_owner(session, request.api_key)
    if not request.service_code:
        raise BadRequest("service_code is required: services.xml lists them.")
    if request.description and len(request.description) > MAX_DESCRIPTION:
        raise BadRequest(f"description must be at most {MAX_DESCRIPTION} characters.")
    category = get_service(session, request.service_code)
    email = _address(request.email)
    issue = issues.create_issue(
        session,
        spatial=spatial,
        reporter=owner,
        category_code=category.code,
        title=issues.title_from(request.description, category.name_en),
        description=request.description or "",
        location=_location(request),
        address=request.address_string,
        answers=request.answers,
        field_names={"category": "service_code", "attributes": "attribute[{code}]"},
        channel="open311",
        emergency_number=emergency_number,
    ).issue
    submission = Open311Submission(
        issue_id=issue.id,
        api_key_id=api_key.id,
        token=secrets.token_hex(16),
        email=email,
        first_name=request.first_name,
        last_name=request.last_name,
        phone=request.phone,
        device_id=request.device_id,
        account_id=request.account_id,
        address_id=request.address_id,
        media_url=request.media_url,
    )
    session.add(submission)
    session.flush()
    if email:
        # The submitter is told of every step like any reporter, once they confirm the address
        # (until then it receives only that link); confirming makes the report theirs
        # (`follows.confirm_follow_by_email`), so they are asked whether it is fixed.
        follows.request_follow_by_email(session, issue=issue, email=email, language=i18n.current())
    if media and media.photos:
        photos.add_photos(
            session,
            store=media.store,
            issue=issue,
            uploader=owner,
            kind=PhotoKind.report,
            photos=media.photos,
            max_per_issue=media.max_per_issue,
        )
    return issue, submission


@dataclass(frozen=True)
class RequestQuery:
    """GET Service Requests: the spec's arguments and the common extensions."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[Open311Status, ...] = ()
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    bbox: BBox | None = None
    near: LonLat | None = None
    radius_m: float | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


def requested_window(
    query: RequestQuery, now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The requested_datetime range: at most 90 days; the most recent 90 days by default.

    Asking by update time (updated_after/updated_before) drops the default, so a client can
    fetch what changed lately whenever it was reported."""
    start, end = query.start_date, query.end_date
    if start is None and end is None:
        if query.updated_after or query.updated_before:
            return None, None
        return now - MAX_WINDOW, now
    if start is None:
        assert end is not None
        start = end - MAX_WINDOW
    elif end is None:
        end = start + MAX_WINDOW
    if start > end:
        raise BadRequest("start_date must not be later than end_date.")
    if end - start > MAX_WINDOW:
        raise BadRequest(
            "start_date to end_date may span at most 90 days; ask for several windows."
        )
    return start, end


def included_until(end: dt.datetime) -> dt.datetime:
    """The first moment after end_date, "the latest datetime to include". Requests are shown
    to the whole second, so an end_date without fractional seconds takes in that whole second:
    a request shown as requested at 10:00:05 is found with end_date=10:00:05."""
    if end.microsecond:
        return end + dt.timedelta(microseconds=1)
    return end + dt.timedelta(seconds=1)


@dataclass(frozen=True)
class RequestRecord:
    """One service request: the issue, what its Open311 client sent, its public timeline."""

    issue: Issue
    submission: Open311Submission | None
    # Its public steps in order; only those that can be its status notes unless asked for all.
    events: list[IssueEvent]
    # Where an imported issue came from: its media links, address id, zipcode, agency name.
    origin: IssueImport | None = None
    # Its photos the public sees, in the order added.
    photos: Sequence[Photo] = ()

    @property
    def address(self) -> str:
        """The reporter's address, or else a readable place: the district and the point."""
        issue = self.issue
        if issue.address:
            return issue.address
        point = f"{issue.location.lat:.5f}, {issue.location.lon:.5f}"
        return f"{issue.district.name_en} ({point})" if issue.district else point

    @property
    def first_photo(self) -> Photo | None:
        """The photo that stands for the request (`media_url`): its first report photo."""
        return next((p for p in self.photos if p.kind == PhotoKind.report), None)

    @property
    def status_notes(self) -> str | None:
        """The note (or the system's message) of the latest public status change, if any."""
        changes = [
            e for e in self.events if e.from_status != e.to_status and (e.note or e.message_key)
        ]
        return (changes[-1].note or lifecycle.event_message(changes[-1])) if changes else None


def _records(session: Session, found: Sequence[Issue], *, history: bool) -> list[RequestRecord]:
    """Each issue's request record. Without its `history` (the extensions' every public step),
    only the steps that can be its `status_notes` are read: status changes with words."""
    ids = [issue.id for issue in found]
    submissions = {
        s.issue_id: s
        for s in session.scalars(
            select(Open311Submission).where(Open311Submission.issue_id.in_(ids))
        )
    }
    events: dict[int, list[IssueEvent]] = defaultdict(list)
    query = select(IssueEvent).where(IssueEvent.issue_id.in_(ids), IssueEvent.is_public)
    if history:
        agency = joinedload(IssueEvent.to_agency).load_only(
            Agency.id, Agency.slug, Agency.name_th, Agency.name_en, Agency.names
        )
        query = query.options(agency)
    else:
        query = query.where(
            IssueEvent.from_status.is_distinct_from(IssueEvent.to_status),
            or_(IssueEvent.note.is_not(None), IssueEvent.message_key.is_not(None)),
        )
    for event in session.scalars(query.order_by(IssueEvent.issue_id, IssueEvent.id)):
        events[event.issue_id].append(event)
    origins = {
        o.issue_id: o
        for o in session.scalars(select(IssueImport).where(IssueImport.issue_id.in_(ids)))
    }
    shown = photos.photos_by_issue(session, ids, internal_ids=())
    return [
        RequestRecord(i, submissions.get(i.id), events[i.id], origins.get(i.id), shown[i.id])
        for i in found
    ]


def _issues_query() -> Select[Issue]:
    # Only what a request shows of the agency: not its jurisdiction polygon.
    agency = joinedload(Issue.agency).load_only(
        Agency.id, Agency.slug, Agency.name_th, Agency.name_en, Agency.names
    )
    return select(Issue).options(joinedload(Issue.category), agency)


def find_requests(
    session: Session,
    *,
    spatial: SpatialBackend,
    query: RequestQuery,
    now: dt.datetime,
    history: bool,
) -> list[RequestRecord]:
    """Newest first. A list of ids overrides every other argument, as the spec says."""
    statement = _issues_query().order_by(Issue.created_at.desc(), Issue.id.desc())
    if query.ids:
        statement = statement.where(Issue.public_id.in_(query.ids), issues.publicly_visible())
    else:
        _check_services(session, query.service_codes)
        start, end = requested_window(query, now)
        statuses = tuple(s for status in query.statuses for s in ISSUE_STATUSES[status])
        issue_filter = IssueFilter(
            bbox=query.bbox,
            near=query.near,
            radius_m=query.radius_m,
            statuses=statuses,
            category_codes=query.service_codes,
            created_after=start,
            created_before=included_until(end) if end else None,
            updated_after=query.updated_after,
            updated_before=query.updated_before,
        )
        statement = (
            statement.where(*issues.filter_conditions(session, spatial, issue_filter))
            .offset((query.page - 1) * query.page_size)
            .limit(query.page_size)
        )
    return _records(session, list(session.scalars(statement).unique()), history=history)


def get_request(session: Session, public_id: str, *, history: bool) -> RequestRecord:
    issue = session.scalar(
        _issues_query().where(Issue.public_id == public_id, issues.publicly_visible())
    )
    if issue is None:
        raise NotFound(f"service_request_id {public_id!r} not found.")
    return _records(session, [issue], history=history)[0]


def token_request(session: Session, token: str) -> tuple[str, Open311Submission]:
    """The service_request_id a token stands for."""
    row = session.execute(
        select(Issue.public_id, Open311Submission)
        .join(Issue, Issue.id == Open311Submission.issue_id)
        .where(Open311Submission.token == token)
    ).first()
    if row is None:
        raise NotFound(f"token {token!r} not found.")
    return row[0], row[1]
