"""Store parsed records as issues with their history, in the caller's transaction.

Imported issues are issues like any other: the same columns carry their dates, so statistics
and KPIs count imported history like native history. What only an import has (the source's id,
media links, its own status word) goes in `issue_import`. Imported timeline events are marked
`imported` and announce nothing: the people involved were told by the old system long ago.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.importers.records import Record, Step, Tally
from app.models import (
    Agency,
    Category,
    EventAction,
    Issue,
    IssueEvent,
    IssueImport,
    IssueStatus,
    Priority,
    Role,
    User,
    issue_candidate,
)
from app.services import catalog, issues, routing
from app.spatial import SpatialBackend

# The role shown on imported events' actor (the source's people are not known here).
IMPORT_ACTOR = "import"
# Targets of a category created for an imported name, until the city sets its own.
DEFAULT_ACKNOWLEDGE_HOURS = 72
DEFAULT_RESOLVE_HOURS = 720
CODE_LENGTH = 64

# The event that brings an issue into each status, when the source names no steps.
ARRIVAL = {
    IssueStatus.open: EventAction.reopened,
    IssueStatus.acknowledged: EventAction.claimed,
    IssueStatus.in_progress: EventAction.started,
    IssueStatus.resolved: EventAction.resolved,
    IssueStatus.closed: EventAction.closed,
}
DONE = (IssueStatus.resolved, IssueStatus.closed)


@dataclass(frozen=True)
class Target:
    category_id: int
    name: str
    acknowledge_hours: int
    resolve_hours: int


@dataclass(frozen=True)
class Options:
    """How records meet this deployment: source category names or codes to category codes
    here, and the category of records that name none (default: the city's general one)."""

    categories: Mapping[str, str]
    fallback_category: str | None = None


def _code_for(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(slug) < 2:
        # Thai or other names without Latin letters: a stable code from the name itself.
        slug = "imported-" + hashlib.sha256(name.encode()).hexdigest()[:10]
    return slug[:CODE_LENGTH].rstrip("-")


def _target(category: Category) -> Target:
    return Target(
        category.id,
        category.name_en,
        category.acknowledge_target_hours,
        category.resolve_target_hours,
    )


class Catalogue:
    """Finds (and, for names not known here, creates) the category of each record, once per
    run: by the mapping, then by code, then by name; a category created for an imported name
    is inactive, so it keeps history without being offered to new reports."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.known: dict[tuple[str | None, str | None], Target] = {}

    def target(self, session: Session, record: Record, tally: Tally) -> Target:
        """The record's category."""
        key = (record.category_code, record.category_name)
        if key not in self.known:
            self.known[key] = self._find(session, record, tally)
        return self.known[key]

    def _find(self, session: Session, record: Record, tally: Tally) -> Target:
        mapping = self.options.categories
        named = [v for v in (record.category_code, record.category_name) if v]
        for value in named:
            if value in mapping:
                return self._existing(session, code=mapping[value])
        if not named:
            # Named none: the city's general category (triage), unless the import names one.
            fallback = self.options.fallback_category
            if fallback:
                return self._existing(session, code=fallback)
            return _target(catalog.general_category(session))
        code = record.category_code or _code_for(record.category_name or "")
        name = record.category_name or code
        found = session.scalar(
            select(Category)
            .where(or_(Category.code == code, Category.name_en == name, Category.name_th == name))
            .order_by(Category.code != code, Category.id)
            .limit(1)
        )
        if found is None:
            found = Category(
                code=code,
                group=(record.category_group or "imported")[:64],
                name_en=name[:200],
                name_th=name[:200],
                keywords=[],
                flags=[],
                acknowledge_target_hours=DEFAULT_ACKNOWLEDGE_HOURS,
                resolve_target_hours=DEFAULT_RESOLVE_HOURS,
                is_active=False,
                attributes=[],
            )
            session.add(found)
            session.flush()
            tally.categories_created.append(code)
        return _target(found)

    def _existing(self, session: Session, *, code: str) -> Target:
        found = session.scalar(select(Category).where(Category.code == code))
        if found is None:
            raise LookupError(f"category {code!r} (named by the import's mapping) does not exist")
        return _target(found)


def _agency_id(session: Session, name: str | None, cache: dict[str, int | None]) -> int | None:
    """The agency here the source named, by slug or by name; None when none matches (the
    source's name is kept with the import either way)."""
    if not name:
        return None
    if name not in cache:
        cache[name] = session.scalar(
            select(Agency.id)
            .where(
                or_(
                    Agency.slug == _code_for(name),
                    Agency.name_en == name,
                    Agency.name_th == name,
                )
            )
            .order_by(Agency.id)
            .limit(1)
        )
    return cache[name]


def importer_user(session: Session, source: str) -> User:
    """The reporter of a source's imported issues: one account per source that nobody can
    sign in as (no e-mail, no password, and a device hash no device id can produce)."""
    marker = "import-" + hashlib.sha256(source.encode()).hexdigest()[:57]
    user = session.scalar(select(User).where(User.device_id_hash == marker))
    if user is None:
        user = User(
            device_id_hash=marker,
            display_name=f"Imported from {source}"[:120],
            role=Role.citizen,
            is_active=False,
        )
        session.add(user)
        session.flush()
    return user


def _event(
    issue: Issue,
    *,
    at: dt.datetime,
    action: EventAction,
    from_status: IssueStatus | None,
    to_status: IssueStatus,
    note: str | None = None,
    to_agency_id: int | None = None,
) -> IssueEvent:
    return IssueEvent(
        issue_id=issue.id,
        created_at=at,
        action=action,
        actor_id=None,
        actor_role=IMPORT_ACTOR,
        from_status=from_status,
        to_status=to_status,
        to_agency_id=to_agency_id,
        note=note or None,
        is_public=True,
        imported=True,
    )


def _steps(record: Record, last: dt.datetime) -> list[Step]:
    """The record's timeline after the report: the source's own, or what its dates tell."""
    if record.history:
        return list(record.history)
    steps: list[Step] = []
    if record.acknowledged_at is not None and record.status != IssueStatus.open:
        steps.append(Step(record.acknowledged_at, EventAction.claimed, IssueStatus.acknowledged))
    current = steps[-1].status if steps else IssueStatus.open
    if record.status != current:
        steps.append(Step(last, ARRIVAL[record.status], record.status, record.status_note))
    elif record.status_note:
        steps.append(Step(last, EventAction.commented, record.status, record.status_note))
    return steps


def _last_change(record: Record) -> dt.datetime:
    """When the source last changed it: never before the report (sources round their clocks)."""
    moments = [m for m in (record.updated_at, record.closed_at) if m is not None]
    return max([record.created_at, *moments])


def _new_issue(
    session: Session,
    *,
    spatial: SpatialBackend,
    record: Record,
    target: Target,
    reporter: User,
    agency_id: int | None,
) -> Issue:
    last = _last_change(record)
    closed_at = record.closed_at or last if record.status in DONE else None
    issue = Issue(
        public_id=issues.new_public_id(),
        category_id=target.category_id,
        reporter_id=reporter.id,
        agency_id=agency_id,
        title=(record.title or issues.title_from(record.description, target.name))[:200],
        description=record.description,
        location=record.location,
        address=record.address,
        attributes={},
        district_id=spatial.district_id_at(session, point=record.location),
        status=record.status,
        priority=Priority.normal,
        created_at=record.created_at,
        updated_at=last,
        acknowledged_at=record.acknowledged_at,
        resolved_at=closed_at,
        closed_at=closed_at if record.status == IssueStatus.closed else None,
        reopen_count=record.reopen_count,
        resolution=record.resolution if record.status in DONE else None,
        acknowledge_due_at=record.created_at + dt.timedelta(hours=target.acknowledge_hours),
        resolve_due_at=record.expected_at
        or record.created_at + dt.timedelta(hours=target.resolve_hours),
    )
    session.add(issue)
    session.flush()
    if record.status == IssueStatus.open and agency_id is None:
        routing.route(session, spatial=spatial, issue=issue)
    elif record.status == IssueStatus.open and agency_id is not None:
        session.execute(issue_candidate.insert().values(issue_id=issue.id, agency_id=agency_id))
    steps = _steps(record, last)
    # The source's own "reported" step keeps its time (a moment after the request's).
    reported_at = record.created_at
    if steps and steps[0].action == EventAction.reported:
        reported_at = steps.pop(0).at
    events = [
        _event(
            issue,
            at=reported_at,
            action=EventAction.reported,
            from_status=None,
            to_status=IssueStatus.open,
        )
    ]
    status = IssueStatus.open
    for step in steps:
        events.append(
            _event(
                issue,
                at=step.at,
                action=step.action,
                from_status=status,
                to_status=step.status,
                note=step.note,
                to_agency_id=agency_id if step.action == EventAction.claimed else None,
            )
        )
        status = step.status
    session.add_all(events)
    return issue


def _update(session: Session, *, issue: Issue, found: IssueImport, record: Record) -> bool:
    """A record the source changed since the last import: its new status (and the note that
    came with it) is one more imported event."""
    if record.updated_at is None or (
        found.source_updated_at is not None and record.updated_at <= found.source_updated_at
    ):
        return False
    found.source_updated_at = record.updated_at
    found.source_status = record.source_status
    found.media_urls = list(record.media_urls)
    last = _last_change(record)
    if record.status != issue.status:
        session.add(
            _event(
                issue,
                at=last,
                action=ARRIVAL[record.status],
                from_status=issue.status,
                to_status=record.status,
                note=record.status_note,
            )
        )
        if record.status in DONE:
            issue.resolved_at = issue.resolved_at or record.closed_at or last
        else:
            issue.resolved_at = None
            issue.resolution = None
        issue.closed_at = (
            (record.closed_at or last) if record.status == IssueStatus.closed else None
        )
        issue.status = record.status
    issue.updated_at = max(issue.updated_at, last)
    return True


def apply_batch(
    session: Session,
    *,
    spatial: SpatialBackend,
    source: str,
    records: Sequence[Record],
    catalogue: Catalogue,
    tally: Tally,
) -> None:
    """Import new records, update the ones the source changed, count the rest; a record that
    cannot be stored is rejected with its reason and the others go on."""
    if not records:
        return
    reporter = importer_user(session, source)
    existing = {
        row.external_id: row
        for row in session.scalars(
            select(IssueImport).where(
                IssueImport.source == source,
                IssueImport.external_id.in_([r.external_id for r in records]),
            )
        )
    }
    agencies: dict[str, int | None] = {}
    for record in records:
        found = existing.get(record.external_id)
        if found is not None:
            issue = session.get_one(Issue, found.issue_id)
            if _update(session, issue=issue, found=found, record=record):
                tally.updated += 1
            else:
                tally.unchanged += 1
            continue
        target = catalogue.target(session, record, tally)
        issue = _new_issue(
            session,
            spatial=spatial,
            record=record,
            target=target,
            reporter=reporter,
            agency_id=_agency_id(session, record.agency, agencies),
        )
        imported = IssueImport(
            issue_id=issue.id,
            source=source,
            external_id=record.external_id,
            source_status=record.source_status,
            source_updated_at=record.updated_at,
            agency_name=record.agency,
            address_id=record.address_id,
            zipcode=record.zipcode,
            media_urls=list(record.media_urls),
        )
        session.add(imported)
        existing[record.external_id] = imported
        tally.imported += 1
    session.flush()
