"""Issues: report, read, edit and query."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    null,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from app import i18n
from app.errors import (
    FieldText,
    Forbidden,
    InvalidCursor,
    NotFound,
    PreconditionFailed,
    UnknownCategory,
    ValidationFailed,
)
from app.models import (
    Agency,
    Category,
    District,
    EventAction,
    Flag,
    Follow,
    Issue,
    IssueEvent,
    IssueImport,
    IssueStatus,
    Priority,
    Review,
    User,
    issue_candidate,
    issue_flag,
)
from app.models.base import utcnow
from app.models.types import LonLat, UTCDateTime
from app.services import (
    attributes,
    emergencies,
    lifecycle,
    permissions,
    priorities,
    routing,
    timeframes,
)
from app.services.notifications import outbox
from app.services.pagination import CursorCodec
from app.spatial import BBox, SpatialBackend

# Crockford's base32 without look-alikes: readable over the phone, 50 bits in 10 characters.
PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PUBLIC_ID_LENGTH = 10


def new_public_id() -> str:
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


TITLE_LENGTH = 200


def title_from(description: str | None, fallback: str) -> str:
    """A report without a title (Open311, imports) is named by its description's first line,
    or by its category's name when that line is too short to say anything."""
    first = (description or "").strip().splitlines()[0:1]
    line = first[0].strip() if first else ""
    if len(line) < 3:
        return fallback[:TITLE_LENGTH]
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1] + "…"


def _unknown_category(code: str, location: str) -> UnknownCategory:
    return UnknownCategory(
        i18n.text("error.issue.unknown_category", code=repr(code)),
        errors=[FieldText(location, i18n.text("error.field.unknown_category"), "unknown_category")],
    )


@dataclass(frozen=True)
class NewIssue:
    """A report just stored, with what was written beside it: its response is built from this,
    without reading back what this transaction wrote."""

    issue: Issue
    candidates: frozenset[int]
    flags: list[Flag]
    timeframe: timeframes.Timeframe


def create_issue(
    session: Session,
    *,
    spatial: SpatialBackend,
    reporter: User,
    category_code: str,
    title: str,
    description: str,
    location: LonLat,
    address: str | None,
    answers: Mapping[str, str | Sequence[str]] | None = None,
    field_names: Mapping[str, str] | None = None,
    flags: Collection[Flag] = (),
    private: bool = False,
    channel: str = "api",
    emergency_number: str | None = None,
) -> NewIssue:
    """Store a new report with its answers to the category's questions and its flags (which set
    its priority and deadlines), route it to the covering agencies, place it in its district,
    and write its first event. A private report is seen only by its reporter, the agencies
    involved and admins; so is a report of a category reviewed before publishing, until staff
    approve it (`moderation.review`).

    `field_names` says how the caller's wire format names the category and the answers in
    error locations (Open311 calls them service_code and attribute). An emergency is stopped
    before anything is stored (`emergencies`); `channel` names the caller for its count and
    `emergency_number` is the city's, for districts without their own."""
    names = {
        "category": "body.category",
        "attributes": "body.attributes.{code}",
        **(field_names or {}),
    }
    category = session.scalar(
        select(Category)
        .where(Category.code == category_code, Category.is_active)
        .options(selectinload(Category.attributes))
    )
    if category is None:
        raise _unknown_category(category_code, names["category"])
    district_id = spatial.district_id_at(session, point=location)
    emergencies.stop_if_emergency(
        session,
        category=category,
        answers=answers or {},
        district_id=district_id,
        channel=channel,
        fallback_number=emergency_number,
    )
    checked = attributes.validate(category.attributes, answers or {}, location=names["attributes"])
    now = utcnow()
    assessed = priorities.assess_report(session, category=category, stated=flags, reported_at=now)
    issue = Issue(
        public_id=new_public_id(),
        category=category,
        reporter_id=reporter.id,
        agency=None,
        title=title,
        description=description,
        location=location,
        address=address,
        attributes=checked,
        district_id=district_id,
        status=IssueStatus.open,
        priority=assessed.priority,
        created_at=now,
        updated_at=now,
        acknowledge_due_at=assessed.acknowledge_due_at,
        resolve_due_at=assessed.resolve_due_at,
        is_private=private,
        review=Review.pending if category.review_before_publish else None,
    )
    session.add(issue)
    session.flush()
    priorities.add_flags(session, issue, assessed.flags)
    candidates = routing.route(session, spatial=spatial, issue=issue)
    # The reporter follows their own report: every public step reaches them until they unsubscribe.
    follow = Follow(issue_id=issue.id, user_id=reporter.id)
    session.add(follow)
    session.flush()
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.reported,
        actor=reporter,
        from_status=None,
        written=outbox.Written(candidates=candidates, follows=[follow]),
    )
    return NewIssue(
        issue=issue,
        candidates=frozenset(candidates),
        flags=sorted(assessed.flags),
        timeframe=timeframes.frame_at(issue, now, at_risk_percent=assessed.at_risk_percent),
    )


def get_issue(session: Session, public_id: str) -> Issue:
    # Ids are made only of the alphabet: anything else cannot exist, so it is not looked up.
    issue = None
    if not set(public_id) - set(PUBLIC_ID_ALPHABET):
        issue = session.scalar(
            select(Issue)
            .where(Issue.public_id == public_id)
            .options(
                joinedload(Issue.category),
                joinedload(Issue.agency),
                joinedload(Issue.reporter),
                # In the same query, whether or not it lies in a district.
                joinedload(Issue.district),
            )
        )
    if issue is None:
        raise _no_issue(public_id)
    return issue


def _no_issue(public_id: str) -> NotFound:
    return NotFound(i18n.text("error.issue.not_found", id=repr(public_id)))


def get_visible_issue(session: Session, public_id: str, viewer: User | None) -> Issue:
    """`get_issue` as the viewer may see it: a hidden issue is, for anyone but the agencies
    involved and admins, an issue that does not exist; so is a private one (or one awaiting
    review, or rejected by it), for anyone but its reporter, those agencies and admins."""
    issue = get_issue(session, public_id)
    if issue.hidden_at is None and not issue.is_restricted:
        return issue
    candidates = permissions.candidate_agency_ids(session, issue)
    if issue.hidden_at is not None and not permissions.sees_hidden_issue(viewer, issue, candidates):
        raise _no_issue(public_id)
    if issue.is_restricted and not permissions.sees_private_report(viewer, issue, candidates):
        raise _no_issue(public_id)
    return issue


def update_issue(
    session: Session,
    *,
    issue: Issue,
    editor: User,
    expected_version: int | None,
    changes: dict[str, object],
) -> Issue:
    """Reporters fix their own text while the issue is open; handling staff edit anything, and
    a change of priority or flags moves the deadlines (`priorities.reprioritise`)."""
    staff = permissions.is_handling_staff(editor, issue) or permissions.is_admin(editor)
    if not staff:
        if not permissions.is_reporter(editor, issue):
            if issue.agency_id is None and permissions.is_candidate_staff(
                editor, permissions.candidate_agency_ids(session, issue)
            ):
                raise lifecycle.claim_first(issue, i18n.text("doing.edit"))
            raise Forbidden(i18n.text("error.issue.edit_who"))
        if issue.status != IssueStatus.open:
            raise Forbidden(i18n.text("error.issue.edit_claimed"))
        if "priority" in changes or "flags" in changes:
            raise Forbidden(i18n.text("error.issue.priority_who"))
    if expected_version is not None and expected_version != issue.version:
        raise PreconditionFailed(
            i18n.text("error.issue.stale", current=issue.version, expected=expected_version),
            current_version=issue.version,
        )
    changes = dict(changes)
    if "priority" in changes or "flags" in changes:
        priorities.reprioritise(
            session,
            issue=issue,
            editor=editor,
            priority=cast("Priority | None", changes.pop("priority", None)),
            flags=cast("list[Flag] | None", changes.pop("flags", None)),
        )
    changed = sorted(name for name, value in changes.items() if getattr(issue, name) != value)
    if not changed:
        return issue
    for name in changed:
        setattr(issue, name, changes[name])
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.edited,
        actor=editor,
        from_status=issue.status,
        message=i18n.text(
            "message.edited", fields=[i18n.text(f"label.field.{name}") for name in changed]
        ),
    )
    session.flush()
    return issue


def _events() -> Select[IssueEvent]:
    """Timeline events in order, with the people and agencies they name."""
    return (
        select(IssueEvent)
        .options(
            joinedload(IssueEvent.actor),
            joinedload(IssueEvent.actor_agency),
            joinedload(IssueEvent.from_agency),
            joinedload(IssueEvent.to_agency),
        )
        .order_by(IssueEvent.id)
    )


def list_events(session: Session, *, issue: Issue, viewer: User | None) -> list[IssueEvent]:
    """The issue's timeline in order; internal notes only for the reporter's and agencies' eyes."""
    query = _events().where(IssueEvent.issue_id == issue.id)
    if not permissions.sees_internal(
        viewer, issue, permissions.candidate_agency_ids(session, issue)
    ):
        query = query.where(IssueEvent.is_public)
    if not permissions.sees_notes(viewer, issue):
        query = query.where(IssueEvent.action != EventAction.noted)
    return list(session.scalars(query))


def public_events(session: Session, issue_ids: Collection[int]) -> dict[int, list[IssueEvent]]:
    """What anyone sees of these issues' timelines (`list_events` for no viewer), in one query."""
    found: dict[int, list[IssueEvent]] = {i: [] for i in issue_ids}
    if issue_ids:
        for event in session.scalars(
            _events().where(
                IssueEvent.issue_id.in_(issue_ids),
                IssueEvent.is_public,
                IssueEvent.action != EventAction.noted,
            )
        ):
            found[event.issue_id].append(event)
    return found


class Sort(StrEnum):
    newest = "newest"
    nearest = "nearest"
    # Work queues: late first, then the soonest due date of the current step; done ones last.
    risk = "risk"


@dataclass(frozen=True)
class IssueFilter:
    """Everything a list of issues can be narrowed by. Each field maps to an indexed column."""

    bbox: BBox | None = None
    near: LonLat | None = None
    radius_m: float | None = None
    statuses: tuple[IssueStatus, ...] = ()
    category_codes: tuple[str, ...] = ()
    agency_id: int | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    text: str | None = None
    # None: the list's own default (newest for lists, risk for work queues).
    sort: Sort | None = None
    district_codes: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()  # issues carrying any of them
    # Assigned to any of these staff, or (include_unassigned) to no one. Staff-only filters.
    assignee_ids: tuple[int, ...] = ()
    include_unassigned: bool = False
    # Queues: issues an agency may work on; issues no agency covers; a reporter's own.
    queue_agency_id: int | None = None
    unrouted: bool = False
    reporter_id: int | None = None
    # Hidden issues, and private ones (with those awaiting or failing review), are left out
    # unless the caller showed the viewer may see them (queues of the agencies involved; a
    # reporter's own list holds their private ones).
    include_hidden: bool = False
    include_private: bool = False

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IssueRow:
    issue: Issue
    distance_m: float | None


def _utc(value: dt.datetime) -> ColumnElement[dt.datetime]:
    return bindparam(None, value, type_=UTCDateTime())


def not_restricted() -> ColumnElement[bool]:
    """`Issue.is_restricted` in SQL: neither private nor kept back by review."""
    return and_(
        Issue.is_private.is_(False),
        or_(Issue.review.is_(None), Issue.review == Review.approved),
    )


def publicly_visible() -> ColumnElement[bool]:
    """Every public surface (lists, maps, Open311, exports, statistics, duplicate suggestions)
    leaves hidden, private and unpublished (awaiting review, rejected) issues out."""
    return and_(Issue.hidden_at.is_(None), not_restricted())


def category_ids(session: Session, codes: tuple[str, ...]) -> list[int]:
    """The ids of a filter's category codes; an unknown code is the caller's mistake (422)."""
    # .all(): a Result has .keys(), so dict() would take it for a mapping.
    ids: dict[str, int] = dict(
        session.execute(select(Category.code, Category.id).where(Category.code.in_(codes))).all()
    )
    for code in codes:
        if code not in ids:
            raise _unknown_category(code, "query.category")
    return list(ids.values())


def district_ids(session: Session, codes: tuple[str, ...]) -> list[int]:
    """The ids of a filter's district codes; an unknown code is the caller's mistake (422)."""
    ids: dict[str, int] = dict(
        session.execute(select(District.code, District.id).where(District.code.in_(codes))).all()
    )
    for code in codes:
        if code not in ids:
            raise ValidationFailed(
                i18n.text("queue.unknown_district", code=code),
                errors=[
                    FieldText(
                        "query.district",
                        i18n.text("error.field.unknown_district"),
                        "unknown_district",
                    )
                ],
            )
    return list(ids.values())


def filter_conditions(
    session: Session, spatial: SpatialBackend, f: IssueFilter
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter: lists, Open311 queries and exports share them."""
    conditions: list[ColumnElement[bool]] = []
    if not f.include_hidden:
        conditions.append(Issue.hidden_at.is_(None))
    if not f.include_private:
        conditions.append(not_restricted())
    if f.bbox is not None:
        conditions.append(spatial.within_bbox(f.bbox))
    if f.near is not None and f.radius_m is not None:
        conditions.append(spatial.within_radius(f.near, f.radius_m))
    if f.statuses:
        conditions.append(Issue.status.in_(f.statuses))
    if f.category_codes:
        conditions.append(Issue.category_id.in_(category_ids(session, f.category_codes)))
    if f.agency_id is not None:
        conditions.append(Issue.agency_id == f.agency_id)
    if f.district_codes:
        conditions.append(Issue.district_id.in_(district_ids(session, f.district_codes)))
    if f.flags:
        conditions.append(
            exists().where(issue_flag.c.issue_id == Issue.id, issue_flag.c.flag.in_(f.flags))
        )
    if f.assignee_ids or f.include_unassigned:
        conditions.append(
            or_(
                Issue.assignee_id.in_(f.assignee_ids),
                Issue.assignee_id.is_(None) if f.include_unassigned else false(),
            )
        )
    for column, after, before in (
        (Issue.created_at, f.created_after, f.created_before),
        (Issue.updated_at, f.updated_after, f.updated_before),
    ):
        if after is not None:
            conditions.append(column >= after)
        if before is not None:
            conditions.append(column < before)
    if f.text:
        pattern = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                Issue.title.ilike(pattern, escape="\\"),
                Issue.description.ilike(pattern, escape="\\"),
                # An imported issue is found by the id it had in the old system.
                Issue.id.in_(
                    select(IssueImport.issue_id).where(IssueImport.external_id == f.text.strip())
                ),
            )
        )
    candidate = exists().where(issue_candidate.c.issue_id == Issue.id)
    if f.queue_agency_id is not None:
        conditions.append(
            or_(
                Issue.agency_id == f.queue_agency_id,
                and_(
                    Issue.agency_id.is_(None),
                    candidate.where(issue_candidate.c.agency_id == f.queue_agency_id),
                ),
            )
        )
    if f.unrouted:
        conditions.append(and_(Issue.agency_id.is_(None), ~candidate))
    if f.reporter_id is not None:
        conditions.append(Issue.reporter_id == f.reporter_id)
    return conditions


class Positioned(Protocol):
    """What a row must hold for the next page's cursor: an Issue, or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def acknowledged_at(self) -> dt.datetime | None: ...
    @property
    def resolved_at(self) -> dt.datetime | None: ...
    @property
    def acknowledge_due_at(self) -> dt.datetime: ...
    @property
    def resolve_due_at(self) -> dt.datetime: ...


@dataclass(frozen=True)
class PageQuery:
    """One keyset page of a filter: its WHERE clauses (the cursor's position included), its
    order and the distance it sorts by, whatever columns the caller selects."""

    where: list[ColumnElement[bool]]
    order_by: list[Any]
    distance: ColumnElement[float] | None
    limit: int
    scope: str
    sort: Sort
    cursors: CursorCodec

    def next_cursor(self, last: Positioned | Issue, distance_m: float | None) -> str:
        """The cursor of the page after the one ending at `last` (of limit + 1 rows fetched)."""
        key: list[Any] = (
            [distance_m, last.id]
            if self.distance is not None
            else _risk_position(last)
            if self.sort == Sort.risk
            else [last.created_at.isoformat(), last.id]
        )
        return self.cursors.encode(scope=self.scope, key=key)


def page_query(
    session: Session,
    *,
    spatial: SpatialBackend,
    cursors: CursorCodec,
    issue_filter: IssueFilter,
    limit: int,
    cursor: str | None,
    default_sort: Sort = Sort.newest,
) -> PageQuery:
    """Newest, nearest or most at risk first, after the cursor's position; fetch `limit` + 1
    rows to learn whether a next page exists."""
    # The cursor's scope is the filter as asked: where no sort was asked, the list (or queue)
    # that made the cursor fixed its order.
    scope = issue_filter.fingerprint()
    f = replace(issue_filter, sort=issue_filter.sort or default_sort)
    distance = spatial.distance_m(f.near) if f.sort == Sort.nearest and f.near else None
    risk = _risk_key() if f.sort == Sort.risk else None
    order: list[Any] = (
        [distance, Issue.id]
        if distance is not None
        else [*risk, Issue.id]
        if risk is not None
        else [Issue.created_at.desc(), Issue.id.desc()]
    )
    where = filter_conditions(session, spatial, f)
    if cursor is not None:
        position = cursors.decode(cursor, scope=scope)
        where.append(_after_risk(position, risk) if risk else _after(position, distance))
    return PageQuery(where, order, distance, limit, scope, f.sort or default_sort, cursors)


def list_issues(
    session: Session,
    *,
    spatial: SpatialBackend,
    cursors: CursorCodec,
    issue_filter: IssueFilter,
    limit: int,
    cursor: str | None,
    with_reporter: bool = False,
    default_sort: Sort = Sort.newest,
) -> tuple[list[IssueRow], str | None]:
    """One page of issues as objects (queues, pages), and the next page's cursor."""
    page = page_query(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=issue_filter,
        limit=limit,
        cursor=cursor,
        default_sort=default_sort,
    )
    distance = page.distance
    query = select(Issue, (distance if distance is not None else null()).label("distance"))
    # Only what the list shows of the agency: not its jurisdiction, a polygon per row otherwise.
    agency = joinedload(Issue.agency).load_only(
        Agency.id, Agency.slug, Agency.name_th, Agency.name_en, Agency.names
    )
    query = query.where(*page.where).options(joinedload(Issue.category), agency)
    if with_reporter:
        query = query.options(joinedload(Issue.reporter))
    query = query.order_by(*page.order_by).limit(limit + 1)
    rows = [IssueRow(issue, dist) for issue, dist in session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = page.next_cursor(rows[-1].issue, rows[-1].distance_m)
    return rows, next_cursor


def _after(key: list[Any], distance: ColumnElement[float] | None) -> ColumnElement[bool]:
    """Rows after the cursor's position in the page order (the cursor's scope fixed the order)."""
    try:
        position, last_id = key
        if type(last_id) is not int:
            raise TypeError
        if distance is not None:
            last_distance = float(position)
            return or_(
                distance > last_distance, and_(distance == last_distance, Issue.id > last_id)
            )
        created_at = dt.datetime.fromisoformat(position)
    except (ValueError, TypeError):
        raise InvalidCursor("The cursor is malformed; start again from the first page.") from None
    return tuple_(Issue.created_at, Issue.id) < tuple_(_utc(created_at), bindparam(None, last_id))


def _risk_key() -> tuple[ColumnElement[int], ColumnElement[dt.datetime]]:
    """Unresolved issues first, each by its current step's deadline (so the late ones lead)."""
    done = case((Issue.resolved_at.is_not(None), 1), else_=0)
    return done, timeframes.current_step_due()


def _risk_position(issue: Positioned | Issue) -> list[Any]:
    due = issue.acknowledge_due_at if issue.acknowledged_at is None else issue.resolve_due_at
    return [int(issue.resolved_at is not None), due.isoformat(), issue.id]


def _after_risk(
    key: list[Any], risk: tuple[ColumnElement[int], ColumnElement[dt.datetime]]
) -> ColumnElement[bool]:
    try:
        done, due, last_id = key
        if type(done) is not int or type(last_id) is not int:
            raise TypeError
        due_at = dt.datetime.fromisoformat(due)
    except (ValueError, TypeError):
        raise InvalidCursor("The cursor is malformed; start again from the first page.") from None
    return tuple_(*risk, Issue.id) > tuple_(
        bindparam(None, done), _utc(due_at), bindparam(None, last_id)
    )
