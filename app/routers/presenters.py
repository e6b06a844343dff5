"""Issues as a given viewer may see them, loaded without a query per issue."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app import i18n
from app.http import conditional
from app.models import Flag, Issue, IssueFeedback, Photo, User, issue_candidate
from app.models.base import utcnow
from app.schemas.issue import (
    IssuePublic,
    IssueRead,
    IssueReadPage,
    ReporterFeedback,
    ReporterRef,
    TimeframeRead,
)
from app.services import duplicates, lifecycle, permissions, photos, priorities, timeframes
from app.services.issues import IssueRow, NewIssue
from app.services.notifications import feedback
from app.services.photos import PhotoLinks
from app.services.timeframes import Timeframe


def _candidates_by_issue(session: Session, issues: Sequence[Issue]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    if issues:
        rows = session.execute(
            select(issue_candidate.c.issue_id, issue_candidate.c.agency_id).where(
                issue_candidate.c.issue_id.in_([i.id for i in issues])
            )
        )
        for issue_id, agency_id in rows:
            found[issue_id].add(agency_id)
    return found


@dataclass(frozen=True)
class _Extras:
    """What an IssueRead shows beyond the issue row, loaded for a whole page at once."""

    flags: list[Flag]
    timeframe: Timeframe
    dupes: duplicates.DuplicateInfo
    feedback: list[IssueFeedback]


def _extras(
    session: Session,
    issues: Sequence[Issue],
    viewer: User | None,
    candidates: dict[int, set[int]],
) -> dict[int, _Extras]:
    flags = priorities.flags_by_issue(session, [i.id for i in issues])
    frames = timeframes.of_issues(session, issues, utcnow())
    dupes = duplicates.summaries(session, issues, viewer)
    internal = [
        i.id for i in issues if permissions.sees_internal(viewer, i, candidates.get(i.id, set()))
    ]
    answers = feedback.by_issue(session, internal)
    return {
        i.id: _Extras(flags[i.id], frames[i.id], dupes[i.id], answers.get(i.id, [])) for i in issues
    }


def _read(
    issue: Issue,
    viewer: User | None,
    candidates: set[int],
    distance: float | None,
    reopen_window: dt.timedelta,
    issue_photos: Sequence[Photo],
    links: PhotoLinks,
    extras: _Extras,
) -> IssueRead:
    private = permissions.can_see_private(viewer, issue, candidates)
    internal = permissions.sees_internal(viewer, issue, candidates)
    reporter = (
        ReporterRef(
            id=issue.reporter.id,
            display_name=issue.reporter.display_name,
            email=issue.reporter.email,
            language=issue.reporter.language,
            contact_needs=issue.reporter.contact_needs,
        )
        if private
        else None
    )
    triage = issue.agency_id is None and not candidates
    return IssueRead(
        # The fields as they are (not dumped): references keep the names they choose from.
        **dict(IssuePublic.of(issue, distance)),
        triage=triage,
        notice=i18n.t("notice.triage", i18n.current()) if triage else None,
        reporter=reporter,
        allowed_actions=lifecycle.allowed_actions(viewer, issue, candidates, reopen_window),
        assignee_id=issue.assignee_id if internal else None,
        photos=[photos.photo_read(p, internal=internal, links=links) for p in issue_photos],
        hidden=issue.hidden_at is not None,
        private=issue.is_private,
        review=issue.review,
        flags=extras.flags,
        timeframe=TimeframeRead.model_validate(extras.timeframe, from_attributes=True),
        **vars(extras.dupes),
        feedback=[
            ReporterFeedback(
                resolved_at=f.resolved_at,
                answer=f.answer,
                rating=f.rating,
                comment=f.comment,
                comment_id=f.comment_id,
                answered_at=f.updated_at,
            )
            for f in extras.feedback
        ],
    )


def _photos(
    session: Session,
    issues: Sequence[Issue],
    viewer: User | None,
    candidates: dict[int, set[int]],
) -> dict[int, list[Photo]]:
    internal = {
        i.id for i in issues if permissions.sees_internal(viewer, i, candidates.get(i.id, set()))
    }
    return photos.photos_by_issue(session, [i.id for i in issues], internal_ids=internal)


def issue_read(
    session: Session,
    issue: Issue,
    viewer: User | None,
    reopen_window: dt.timedelta,
    links: PhotoLinks,
) -> IssueRead:
    """Needs issue.reporter loaded (services.issues.get_issue does)."""
    candidates = {issue.id: permissions.candidate_agency_ids(session, issue)}
    issue_photos = _photos(session, [issue], viewer, candidates)[issue.id]
    extras = _extras(session, [issue], viewer, candidates)[issue.id]
    return _read(
        issue, viewer, candidates[issue.id], None, reopen_window, issue_photos, links, extras
    )


def new_issue_read(
    new: NewIssue,
    reporter: User,
    reopen_window: dt.timedelta,
    issue_photos: Sequence[Photo],
    links: PhotoLinks,
) -> IssueRead:
    """A report just made, as its reporter sees it, from what was written (`issue_read` without
    reading anything back): no one has supported it, merged into it or answered on it yet."""
    fresh = duplicates.DuplicateInfo(
        supporter_count=0, supported=False, duplicate_of=None, duplicates=[]
    )
    extras = _Extras(new.flags, new.timeframe, fresh, [])
    return _read(
        new.issue,
        reporter,
        set(new.candidates),
        None,
        reopen_window,
        issue_photos,
        links,
        extras,
    )


def issue_reads(
    session: Session,
    rows: Sequence[IssueRow],
    viewer: User,
    reopen_window: dt.timedelta,
    links: PhotoLinks,
) -> list[IssueRead]:
    issues = [row.issue for row in rows]
    candidates = _candidates_by_issue(session, issues)
    by_issue = _photos(session, issues, viewer, candidates)
    extras = _extras(session, issues, viewer, candidates)
    return [
        _read(
            row.issue,
            viewer,
            candidates[row.issue.id],
            row.distance_m,
            reopen_window,
            by_issue[row.issue.id],
            links,
            extras[row.issue.id],
        )
        for row in rows
    ]


def conditional_page(
    request: Request, response: Response, page: IssueReadPage
) -> IssueReadPage | Response:
    """A staff page with its weak ETag, or 304 when If-None-Match names it. Besides ids and
    versions it covers what changes with time or with the reader: the time-frame state, the
    actions allowed and the photos shown."""
    etag = conditional.weak_etag(
        (
            (
                item.id,
                item.version,
                item.timeframe.state if item.timeframe else None,
                item.allowed_actions,
                [(p.id, p.hidden) for p in item.photos],
            )
            for item in page.items
        ),
        variant="application/json",
        next_cursor=page.next_cursor,
    )
    if conditional.none_match(request, etag):
        return conditional.not_modified(etag)
    response.headers["ETag"] = etag
    return page
