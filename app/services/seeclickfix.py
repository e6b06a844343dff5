"""SeeClickFix API v2 over civicloop's issues, categories (request types) and districts (places).

SeeClickFix has four public statuses where civicloop has five, integer ids where civicloop has
ten-character public ids, and "rating" (votes) where civicloop has supporters. The mapping lives
here; the filters, visibility rules and category offers are the ones every other surface uses.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload, undefer

from app import i18n
from app.errors import FieldText, NotFound, ValidationFailed
from app.models import (
    Agency,
    Category,
    CategoryAttribute,
    City,
    Comment,
    District,
    Issue,
    IssueEvent,
    IssueImport,
    IssueStatus,
    LonLat,
    Photo,
    PhotoKind,
    Support,
)
from app.services import catalog, conversation, issues, lifecycle, photos
from app.services.conversation import Viewer
from app.services.issues import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH, IssueFilter
from app.spatial import BBox, SpatialBackend

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# With details each issue carries its comments, votes and answers: SeeClickFix allows 20.
MAX_PER_PAGE_DETAILS = 20


class Status(StrEnum):
    """SeeClickFix's statuses, capitalised as its issues carry them."""

    open = "Open"
    acknowledged = "Acknowledged"
    closed = "Closed"
    archived = "Archived"


# Closed is SeeClickFix's "fixed" (civicloop's resolved, still open to the reporter's verdict);
# Archived is done for good (civicloop's closed), out of the default list as SeeClickFix has it.
ISSUE_STATUSES: dict[Status, tuple[IssueStatus, ...]] = {
    Status.open: (IssueStatus.open,),
    Status.acknowledged: (IssueStatus.acknowledged, IssueStatus.in_progress),
    Status.closed: (IssueStatus.resolved,),
    Status.archived: (IssueStatus.closed,),
}
DEFAULT_STATUSES = (Status.open, Status.acknowledged, Status.closed)


def public_status(status: IssueStatus) -> Status:
    return next(s for s, members in ISSUE_STATUSES.items() if status in members)


class Sort(StrEnum):
    created_at = "created_at"
    updated_at = "updated_at"
    rating = "rating"
    distance = "distance"


def issue_number(public_id: str) -> int:
    """The integer id SeeClickFix clients expect: the public id read as the base-32 number it
    is (50 bits, below JavaScript's 2**53), so no internal row number is exposed."""
    number = 0
    for char in public_id:
        number = number * 32 + PUBLIC_ID_ALPHABET.index(char)
    return number


def public_id_of(number: int) -> str | None:
    """The public id an integer id stands for; None when no public id can have it."""
    if not 0 <= number < 32**PUBLIC_ID_LENGTH:
        return None
    chars = []
    for _ in range(PUBLIC_ID_LENGTH):
        number, digit = divmod(number, 32)
        chars.append(PUBLIC_ID_ALPHABET[digit])
    return "".join(reversed(chars))


def invalid(field: str, message: i18n.Text) -> ValidationFailed:
    """A 422 naming the parameter as SeeClickFix clients know it."""
    return ValidationFailed(
        i18n.text("error.field", location=field, message=message),
        errors=[FieldText(field, message, "invalid")],
    )


@dataclass(frozen=True)
class IssueQuery:
    """GET /issues: SeeClickFix's parameters, checked."""

    bbox: BBox | None = None
    point: LonLat | None = None
    statuses: tuple[Status, ...] = DEFAULT_STATUSES
    request_type_ids: tuple[int, ...] = ()
    district_codes: tuple[str, ...] = ()
    search: str | None = None
    after: dt.datetime | None = None
    before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    sort: Sort = Sort.created_at
    descending: bool = True
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


@dataclass(frozen=True)
class IssueRecord:
    """One issue with what SeeClickFix shows beside it."""

    issue: Issue
    votes: list[dt.datetime]
    comment_count: int
    photo: Photo | None
    origin: IssueImport | None
    # With details only: the conversation, and each question of the category with its answer.
    comments: list[CommentRecord] = field(default_factory=list)
    questions: list[tuple[str, str]] = field(default_factory=list)


def _category_codes(session: Session, ids: tuple[int, ...]) -> tuple[str, ...]:
    found = dict(
        session.execute(select(Category.id, Category.code).where(Category.id.in_(ids))).all()
    )
    unknown = [str(i) for i in ids if i not in found]
    if unknown:
        raise invalid(
            "request_types", i18n.text("seeclickfix.unknown_request_type", ids=", ".join(unknown))
        )
    return tuple(found[i] for i in ids)


def _district_codes(session: Session, codes: tuple[str, ...]) -> tuple[str, ...]:
    known = set(session.scalars(select(District.code).where(District.code.in_(codes))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise invalid("place_url", i18n.text("seeclickfix.unknown_place", names=", ".join(unknown)))
    return codes


def _votes() -> Select[int, int]:
    return select(Support.issue_id, func.count().label("votes")).group_by(Support.issue_id)


def _order(spatial: SpatialBackend, query: IssueQuery) -> list[Any]:
    key: Any
    if query.sort == Sort.distance:
        if query.point is None:
            raise invalid("sort", i18n.text("seeclickfix.distance_needs_point"))
        key = spatial.distance_m(query.point)
    elif query.sort == Sort.rating:
        votes = _votes().subquery()
        key = select(votes.c.votes).where(votes.c.issue_id == Issue.id).scalar_subquery()
        key = func.coalesce(key, 0)
    else:
        key = getattr(Issue, query.sort.value)
    if query.descending:
        return [key.desc(), Issue.id.desc()]
    return [key.asc(), Issue.id.asc()]


def find_issues(
    session: Session, *, spatial: SpatialBackend, query: IssueQuery, details: bool = False
) -> tuple[list[IssueRecord], int]:
    """One page of publicly visible issues in the asked order, and how many match in all."""
    issue_filter = IssueFilter(
        bbox=query.bbox,
        statuses=tuple(s for status in query.statuses for s in ISSUE_STATUSES[status]),
        category_codes=_category_codes(session, query.request_type_ids),
        district_codes=_district_codes(session, query.district_codes),
        text=query.search,
        created_after=query.after,
        created_before=query.before,
        updated_after=query.updated_after,
        updated_before=query.updated_before,
    )
    conditions = [
        *issues.filter_conditions(session, spatial, issue_filter),
        issues.publicly_visible(),
    ]
    total = session.scalar(select(func.count(Issue.id)).where(*conditions)) or 0
    statement = (
        _issues()
        .where(*conditions)
        .order_by(*_order(spatial, query))
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    )
    found = list(session.scalars(statement).unique())
    return _records(session, found, details=details), total


def pages(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def _issues() -> Select[Issue]:
    # Only what an issue shows of its agency: not its jurisdiction polygon.
    agency = joinedload(Issue.agency).load_only(
        Agency.id, Agency.slug, Agency.name_th, Agency.name_en, Agency.names
    )
    return select(Issue).options(joinedload(Issue.category), agency)


def _records(session: Session, found: list[Issue], *, details: bool) -> list[IssueRecord]:
    ids = [issue.id for issue in found]
    votes: dict[int, list[dt.datetime]] = defaultdict(list)
    for issue_id, created_at in session.execute(
        select(Support.issue_id, Support.created_at)
        .where(Support.issue_id.in_(ids))
        .order_by(Support.issue_id, Support.id)
    ):
        votes[issue_id].append(created_at)
    comments: dict[int, int] = dict(
        session.execute(
            select(Comment.issue_id, func.count())
            .where(Comment.issue_id.in_(ids), *_public_comment())
            .group_by(Comment.issue_id)
        ).all()
    )
    pictures = photos.photos_by_issue(session, ids, internal_ids=())
    origins = {
        o.issue_id: o
        for o in session.scalars(select(IssueImport).where(IssueImport.issue_id.in_(ids)))
    }
    answered = _answers(session, found) if details else {}
    timelines = conversation.public_timelines(session, ids) if details else {}
    return [
        IssueRecord(
            issue=issue,
            votes=votes[issue.id],
            comment_count=comments.get(issue.id, 0),
            photo=next((p for p in pictures[issue.id] if p.kind == PhotoKind.report), None),
            origin=origins.get(issue.id),
            comments=_comment_records(timelines[issue.id]) if details else [],
            questions=answered[issue.id] if details else [],
        )
        for issue in found
    ]


def _answers(session: Session, found: list[Issue]) -> dict[int, list[tuple[str, str]]]:
    """Each issue's answers, by its category's questions in their order (lists joined)."""
    questions: dict[int, list[CategoryAttribute]] = defaultdict(list)
    for question in session.scalars(
        select(CategoryAttribute)
        .where(CategoryAttribute.category_id.in_({i.category_id for i in found}))
        .order_by(CategoryAttribute.order)
    ):
        questions[question.category_id].append(question)
    answered: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for issue in found:
        for question in questions[issue.category_id]:
            answer = issue.attributes.get(question.code)
            if answer is not None:
                text = ", ".join(map(str, answer)) if isinstance(answer, list) else str(answer)
                answered[issue.id].append((question.description, text))
    return answered


def _public_comment() -> tuple[ColumnElement[bool], ...]:
    return Comment.is_internal.is_(False), Comment.hidden_at.is_(None)


def _visible_issue(session: Session, number: int) -> Issue:
    public_id = public_id_of(number)
    issue = None
    if public_id is not None:
        issue = session.scalar(
            _issues().where(Issue.public_id == public_id, issues.publicly_visible())
        )
    if issue is None:
        raise NotFound(i18n.text("error.issue.not_found", id=str(number)))
    return issue


def get_issue(session: Session, number: int, *, details: bool = False) -> IssueRecord:
    """A publicly visible issue by its SeeClickFix id; hidden and private ones do not exist."""
    return _records(session, [_visible_issue(session, number)], details=details)[0]


@dataclass(frozen=True)
class CommentRecord:
    """A public comment, or a public status change (SeeClickFix's close/open/acknowledge are
    comments carrying the status the issue took)."""

    created_at: dt.datetime
    text: str
    status: Status
    comment: Comment | None
    event: IssueEvent


def list_comments(session: Session, *, number: int) -> list[CommentRecord]:
    """Oldest first, each with the status the issue had after it."""
    return comments_of(session, _visible_issue(session, number))


def comments_of(session: Session, issue: Issue) -> list[CommentRecord]:
    anonymous = Viewer(user=None, internal=False, notes=False)
    return _comment_records(conversation.timeline(session, issue=issue, viewer=anonymous))


def _comment_records(steps: list[tuple[IssueEvent, Comment | None]]) -> list[CommentRecord]:
    """Of a public timeline, what SeeClickFix shows as comments: the public comments that are
    not hidden, and the status changes."""
    records = []
    for event, comment in steps:
        status = public_status(event.to_status)
        if comment is not None and not comment.is_internal and comment.hidden_at is None:
            records.append(CommentRecord(event.created_at, comment.body, status, comment, event))
        elif event.from_status is not None and event.from_status != event.to_status:
            text = event.note or lifecycle.event_message(event) or i18n.label(event.to_status)
            records.append(CommentRecord(event.created_at, text, status, None, event))
    return records


def request_types(
    session: Session, *, spatial: SpatialBackend, at: LonLat | None
) -> list[Category]:
    """What can be reported there: the categories some agency covering the point handles, and
    the general one (SeeClickFix always offers its "Other")."""
    return catalog.offered_categories(session, spatial=spatial, at=at)


def get_request_type(session: Session, category_id: int) -> Category:
    category = session.scalar(
        select(Category)
        .where(Category.id == category_id, Category.is_active)
        .options(selectinload(Category.attributes))
    )
    if category is None:
        raise NotFound(i18n.text("seeclickfix.no_request_type", id=category_id))
    return category


def organization(session: Session) -> str | None:
    """Who answers the city's requests, in the reader's language: the city's own name."""
    city = session.scalar(select(City).order_by(City.id).limit(1))
    if city is None:
        return None
    return city.names.get(i18n.current().value) or city.names.get(city.default_language)


def list_places(session: Session, *, spatial: SpatialBackend, at: LonLat | None) -> list[District]:
    """Every district; at a point, the district placing reports made there (none outside)."""
    query = select(District).options(undefer(District.area)).order_by(District.code)
    if at is not None:
        district_id = spatial.district_id_at(session, point=at)
        if district_id is None:
            return []
        query = query.where(District.id == district_id)
    return list(session.scalars(query))


def get_place(session: Session, district_id: int) -> District:
    district = session.scalar(
        select(District).where(District.id == district_id).options(undefer(District.area))
    )
    if district is None:
        raise NotFound(i18n.text("seeclickfix.no_place", id=district_id))
    return district
