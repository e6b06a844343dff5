"""Fewer repeat reports: find similar open issues before posting, add support ("me too") to one,
and merge a duplicate into the issue that reports the same problem."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from app import i18n
from app.errors import (
    AlreadySupported,
    Forbidden,
    IssueNotOpen,
    OwnIssue,
    PreconditionFailed,
    ValidationFailed,
)
from app.models import (
    Category,
    EventAction,
    Follow,
    Issue,
    IssueStatus,
    LonLat,
    Resolution,
    Support,
    User,
)
from app.models.base import utcnow
from app.schemas.problem import FieldProblem
from app.services import lifecycle, permissions
from app.services.issues import PUBLIC_ID_ALPHABET, IssueFilter, filter_conditions, not_restricted
from app.services.notifications import follows
from app.spatial import SpatialBackend

# Still waiting for or under work: what a new report could be a repeat of.
OPEN_STATUSES = (IssueStatus.open, IssueStatus.acknowledged, IssueStatus.in_progress)
DONE_STATUSES = frozenset({IssueStatus.resolved, IssueStatus.closed})

# The score of a similar issue, each part in [0, 1]:
#   text     Dice coefficient of the character trigrams of title + description (see `text_score`);
#            the strongest evidence that two reports are about the same thing, so it weighs most;
#   distance 1 at the point itself, falling linearly to 0 at the search radius;
#   recency  halves every RECENCY_HALF_LIFE_DAYS since the issue was reported: a fresh report
#            near by is more likely the same event than one from months ago.
WEIGHT_TEXT = 0.6
WEIGHT_DISTANCE = 0.25
WEIGHT_RECENCY = 0.15
RECENCY_HALF_LIFE_DAYS = 14.0
# Only the nearest open issues are scored: in a dense city a radius can hold hundreds, and the
# nearest ones are where a repeat is.
MAX_CANDIDATES = 200
NGRAM = 3


def normalise(text: str) -> str:
    """NFKC (full-width and compatibility forms fold to one spelling), case-folded, whitespace
    runs made one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def trigrams(text: str) -> Counter[str]:
    """Character trigrams of the normalised text, with their counts."""
    text = normalise(text)
    if len(text) <= NGRAM:
        return Counter([text] if text else [])
    return Counter(text[i : i + NGRAM] for i in range(len(text) - NGRAM + 1))


def text_score(query: Counter[str], candidate: Counter[str]) -> float:
    """Dice coefficient of two trigram multisets: 2|A ∩ B| / (|A| + |B|).

    Characters, not words: Thai writes no spaces between words, so any word-based measure (and
    rapidfuzz's token_* scorers, which split on whitespace) sees one long "word" per sentence;
    rapidfuzz's edit-distance ratios work on characters but punish the word order and length
    differences two people's accounts of the same pothole are full of. Shared trigrams catch
    shared words in either script regardless of order, in a few lines of standard library.
    """
    total = sum(query.values()) + sum(candidate.values())
    if not total:
        return 0.0
    return 2 * sum((query & candidate).values()) / total


@dataclass(frozen=True)
class SimilarQuery:
    near: LonLat
    category_codes: tuple[str, ...]  # see related_codes
    title: str
    description: str
    radius_m: float
    limit: int


@dataclass(frozen=True)
class Similar:
    issue: Issue
    distance_m: float
    supporter_count: int
    score: float
    text: float
    distance: float
    recency: float


def related_codes(session: Session, category_code: str) -> tuple[str, ...]:
    """The category and the others of its group (a pothole may have been filed as a damaged
    footpath); an unknown code stays itself, for the filter to refuse by name."""
    group = select(Category.group).where(Category.code == category_code).scalar_subquery()
    codes = session.scalars(
        select(Category.code).where(Category.group == group).order_by(Category.code)
    ).all()
    return tuple(codes) or (category_code,)


def find_similar(
    session: Session, *, spatial: SpatialBackend, query: SimilarQuery, now: dt.datetime
) -> list[Similar]:
    """Open issues of the same or a related category within the radius, best match first.

    The candidates go through the public list's own conditions (`filter_conditions`), so an
    issue hidden from public lists is hidden here too."""
    conditions = filter_conditions(
        session,
        spatial,
        IssueFilter(
            near=query.near,
            radius_m=query.radius_m,
            statuses=OPEN_STATUSES,
            category_codes=query.category_codes,
        ),
    )
    distance = spatial.distance_m(query.near)
    rows = session.execute(
        select(Issue, distance.label("distance"))
        .where(*conditions)
        .options(joinedload(Issue.category))
        .order_by(distance, Issue.id)
        .limit(MAX_CANDIDATES)
    ).all()
    counts = supporter_counts(session, [issue.id for issue, _ in rows])
    wanted = trigrams(f"{query.title} {query.description}")
    found = []
    for issue, distance_m in rows:
        text = text_score(wanted, trigrams(f"{issue.title} {issue.description}"))
        near = max(0.0, 1.0 - distance_m / query.radius_m)
        age_days = max(0.0, (now - issue.created_at).total_seconds() / 86400)
        recent = math.pow(0.5, age_days / RECENCY_HALF_LIFE_DAYS)
        score = WEIGHT_TEXT * text + WEIGHT_DISTANCE * near + WEIGHT_RECENCY * recent
        found.append(Similar(issue, distance_m, counts.get(issue.id, 0), score, text, near, recent))
    found.sort(key=lambda s: (-s.score, s.distance_m, s.issue.id))
    return found[: query.limit]


def supporter_counts(session: Session, issue_ids: Sequence[int]) -> dict[int, int]:
    if not issue_ids:
        return {}
    return dict(
        session.execute(
            select(Support.issue_id, func.count())
            .where(Support.issue_id.in_(issue_ids))
            .group_by(Support.issue_id)
        ).all()
    )


def _public_id(session: Session, issue_id: int | None) -> str | None:
    if issue_id is None:
        return None
    return session.scalar(select(Issue.public_id).where(Issue.id == issue_id))


def _refuse_if_done(session: Session, issue: Issue, *, merged: str, done: str) -> None:
    if issue.duplicate_of_id is not None and issue.status in DONE_STATUSES:
        canonical = _public_id(session, issue.duplicate_of_id)
        raise IssueNotOpen(i18n.text(merged, issue=issue.public_id, canonical=canonical))
    if issue.status in DONE_STATUSES:
        raise IssueNotOpen(i18n.text(done, issue=issue.public_id))


def support(session: Session, *, issue: Issue, user: User) -> Support:
    """A citizen who has the same problem backs an open issue once: they are counted, follow
    it, and the timeline says so."""
    if user.role.is_staff or permissions.is_admin(user):
        raise Forbidden(i18n.text("duplicates.support_staff"))
    if permissions.is_reporter(user, issue):
        raise OwnIssue(i18n.text("duplicates.own_issue"))
    _refuse_if_done(
        session, issue, merged="duplicates.support_merged", done="duplicates.support_done"
    )
    if is_supporter(session, issue=issue, user=user):
        raise AlreadySupported(i18n.text("duplicates.already_supported", issue=issue.public_id))
    row = Support(issue_id=issue.id, user_id=user.id, created_at=utcnow())
    session.add(row)
    follows.follow(session, issue=issue, user=user)
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.supported,
        actor=user,
        from_status=issue.status,
    )
    session.flush()
    return row


def withdraw(session: Session, *, issue: Issue, user: User) -> None:
    """Take one's support back (not supporting is fine too: the outcome is the same). They keep
    following until they unfollow."""
    session.execute(delete(Support).where(Support.issue_id == issue.id, Support.user_id == user.id))


def is_supporter(session: Session, *, issue: Issue, user: User | None) -> bool:
    return user is not None and (
        session.scalar(
            select(Support.id).where(Support.issue_id == issue.id, Support.user_id == user.id)
        )
        is not None
    )


@dataclass(frozen=True)
class DuplicateInfo:
    """What an issue shows of its support and its merges."""

    supporter_count: int
    supported: bool | None  # None: the viewer is anonymous
    duplicate_of: str | None
    duplicates: list[str]


def summaries(
    session: Session, issues: Sequence[Issue], viewer: User | None
) -> dict[int, DuplicateInfo]:
    """Support and merge links of several issues, in four queries whatever their number."""
    ids = [i.id for i in issues]
    counts = supporter_counts(session, ids)
    backed: set[int] = set()
    if viewer is not None and ids:
        backed = set(
            session.scalars(
                select(Support.issue_id).where(
                    Support.issue_id.in_(ids), Support.user_id == viewer.id
                )
            )
        )
    targets = {i.duplicate_of_id for i in issues if i.duplicate_of_id is not None}
    names: dict[int, str] = {}
    if targets:
        names = dict(
            session.execute(select(Issue.id, Issue.public_id).where(Issue.id.in_(targets))).all()
        )
    merged: dict[int | None, list[str]] = {}
    if ids:
        query = select(Issue.duplicate_of_id, Issue.public_id).where(Issue.duplicate_of_id.in_(ids))
        if not (permissions.is_admin(viewer) or (viewer is not None and viewer.role.is_staff)):
            # A private report merged into a public one is not named to the public.
            query = query.where(not_restricted())
        for canonical_id, public_id in session.execute(query.order_by(Issue.id)):
            merged.setdefault(canonical_id, []).append(public_id)
    return {
        i.id: DuplicateInfo(
            supporter_count=counts.get(i.id, 0),
            supported=(i.id in backed) if viewer is not None else None,
            duplicate_of=names.get(i.duplicate_of_id) if i.duplicate_of_id else None,
            duplicates=merged.get(i.id, []),
        )
        for i in issues
    }


def _into_problem(key: str, code: str, **params: object) -> ValidationFailed:
    return ValidationFailed(
        i18n.text(key, **params),
        errors=[
            FieldProblem(
                location="body.into", message=i18n.t(key, i18n.FALLBACK, **params), code=code
            )
        ],
    )


def _lock(session: Session, issues: Sequence[Issue]) -> None:
    """Row locks on both issues, in id order so two opposite merges cannot deadlock, then
    re-read them as the last committed change left them (see lifecycle._lock for SQLite)."""
    session.scalars(
        select(Issue)
        .where(Issue.id.in_([i.id for i in issues]))
        .order_by(Issue.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def merge(
    session: Session,
    *,
    duplicate: Issue,
    into: str,
    actor: User,
    note: str | None,
    expected_version: int | None,
) -> Issue:
    """Resolve `duplicate` as a duplicate of the open issue `into`, link the two, and move its
    reporter, followers and supporters over (no one counted twice); both timelines say so and
    the duplicate's followers are told. Staff of the agency handling the duplicate, or admins."""
    if not (permissions.is_admin(actor) or permissions.is_handling_staff(actor, duplicate)):
        candidates = permissions.candidate_agency_ids(session, duplicate)
        if duplicate.agency_id is None and permissions.is_candidate_staff(actor, candidates):
            raise lifecycle.claim_first(duplicate, "merge it")
        raise Forbidden(i18n.text("duplicates.merge_forbidden"))
    if into == duplicate.public_id:
        raise _into_problem("duplicates.merge_into_itself", "same_issue")
    canonical = None
    if not set(into) - set(PUBLIC_ID_ALPHABET):
        canonical = session.scalar(select(Issue).where(Issue.public_id == into))
    if canonical is None:
        raise _into_problem("duplicates.unknown_target", "unknown_issue", issue=into)
    _lock(session, [duplicate, canonical])
    if expected_version is not None and expected_version != duplicate.version:
        raise PreconditionFailed(
            f"The issue is at version {duplicate.version}, not {expected_version}: reload it and "
            "decide again.",
            current_version=duplicate.version,
        )
    _refuse_if_done(
        session, duplicate, merged="duplicates.already_merged", done="duplicates.duplicate_done"
    )
    _refuse_if_done(
        session, canonical, merged="duplicates.target_merged", done="duplicates.target_done"
    )
    from_status = duplicate.status
    duplicate.status = IssueStatus.resolved
    duplicate.resolution = Resolution.duplicate
    duplicate.resolved_at = utcnow()
    duplicate.duplicate_of_id = canonical.id
    session.flush()
    # Issues merged into the duplicate before now belong to the canonical issue as well.
    session.execute(
        update(Issue)
        .where(Issue.duplicate_of_id == duplicate.id, Issue.id != duplicate.id)
        .values(duplicate_of_id=canonical.id)
        .execution_options(synchronize_session=False)
    )
    # Told before anyone moves: the duplicate's followers hear of the merge once (from the
    # duplicate), the canonical issue's own followers that a report was merged in.
    lifecycle.record_event(
        session,
        issue=duplicate,
        action=EventAction.merged,
        actor=actor,
        from_status=from_status,
        note=note,
        related_issue_id=canonical.id,
    )
    lifecycle.record_event(
        session,
        issue=canonical,
        action=EventAction.merged_in,
        actor=actor,
        from_status=canonical.status,
        related_issue_id=duplicate.id,
    )
    _carry_over(session, duplicate, canonical)
    session.flush()
    return canonical


def _carry_over(session: Session, duplicate: Issue, canonical: Issue) -> None:
    """The duplicate's followers follow the canonical issue; its reporter and supporters support
    it (carried rows name the duplicate, so the metrics count each contact once)."""
    following = set(session.scalars(select(Follow.user_id).where(Follow.issue_id == canonical.id)))
    followers = set(session.scalars(select(Follow.user_id).where(Follow.issue_id == duplicate.id)))
    for user_id in sorted((followers | {duplicate.reporter_id}) - following):
        session.add(Follow(issue_id=canonical.id, user_id=user_id))
    supporting = set(
        session.scalars(select(Support.user_id).where(Support.issue_id == canonical.id))
    )
    backers = set(session.scalars(select(Support.user_id).where(Support.issue_id == duplicate.id)))
    for user_id in sorted(
        (backers | {duplicate.reporter_id}) - supporting - {canonical.reporter_id}
    ):
        session.add(
            Support(
                issue_id=canonical.id,
                user_id=user_id,
                carried_from_id=duplicate.id,
                created_at=utcnow(),
            )
        )
