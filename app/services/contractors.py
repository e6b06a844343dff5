"""Contractors: an agency hands an issue's work to a contractor by a signed, expiring link (no
account), the contractor adds after-fix photos and reports the work done, and the agency then
resolves the issue (the ordinary transition) or sends the work back.

Every step is an internal event on the issue's timeline. A link works only while its row says
so: not revoked, not expired, the issue still with the agency that handed it over and still
being worked on (a resolved issue needs no contractor; reopened, the link works again until it
expires)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.errors import Conflict, FieldText, Forbidden, LinkGone, NotFound, ValidationFailed
from app.models import (
    Agency,
    Category,
    ContractorLink,
    EventAction,
    Issue,
    IssueStatus,
    Photo,
    PhotoKind,
    User,
)
from app.models.base import utcnow
from app.schemas.contractor import ContractorLinkRead, ContractorWork
from app.schemas.issue import AgencyRef, CategoryRef
from app.services import lifecycle, permissions, photos
from app.services.notifications.tokens import LinkSigner, api_link, page_link
from app.storage import PhotoStore
from app.storage.images import CleanPhoto

CONTRACTOR_ROLE = "contractor"
# The statuses in which there is work for a contractor to do.
WORKING = frozenset({IssueStatus.acknowledged, IssueStatus.in_progress})


def _check_handling(actor: User, issue: Issue) -> None:
    if not permissions.is_handling_staff(actor, issue):
        raise Forbidden(i18n.text("error.contractor.who"))


def _status(issue: Issue) -> i18n.Text:
    return i18n.text(f"label.status.{issue.status.value}")


def hand_over(
    session: Session,
    *,
    issue: Issue,
    actor: User,
    contractor: str,
    instructions: str,
    valid_days: int,
    max_days: int,
) -> ContractorLink:
    """Only the handling agency's staff hand over work it is doing, for at most `max_days`."""
    _check_handling(actor, issue)
    if issue.status not in WORKING:
        raise Conflict(i18n.text("error.contractor.not_working", status=_status(issue)))
    if valid_days > max_days:
        detail = i18n.text("error.contractor.too_long", max=max_days)
        raise ValidationFailed(detail, errors=[FieldText("body.valid_days", detail, "too_long")])
    assert issue.agency_id is not None  # handling staff exist only for a claimed issue
    now = utcnow()
    link = ContractorLink(
        issue_id=issue.id,
        agency_id=issue.agency_id,
        issued_by_id=actor.id,
        contractor=contractor,
        instructions=instructions,
        created_at=now,
        expires_at=now + dt.timedelta(days=valid_days),
    )
    session.add(link)
    session.flush()
    _record(
        session,
        issue,
        EventAction.handed_over,
        actor,
        i18n.text(
            "message.contractor.handed_over",
            contractor=contractor,
            until=link.expires_at.date().isoformat(),
        ),
        note=instructions or None,
    )
    return link


def _record(
    session: Session,
    issue: Issue,
    action: EventAction,
    actor: User | None,
    message: i18n.Text,
    *,
    note: str | None = None,
) -> None:
    """An internal event: the hand-over is the agency's business, not the public's. No actor
    means the contractor."""
    lifecycle.record_event(
        session,
        issue=issue,
        action=action,
        actor=actor,
        actor_role=None if actor else CONTRACTOR_ROLE,
        from_status=issue.status,
        note=note,
        message=message,
        is_public=False,
    )
    session.flush()


def links_of(session: Session, *, issue: Issue, viewer: User) -> Sequence[ContractorLink]:
    """The issue's hand-overs, newest first: for the staff of the agency handling it."""
    _check_handling(viewer, issue)
    return session.scalars(
        select(ContractorLink)
        .where(ContractorLink.issue_id == issue.id)
        .order_by(ContractorLink.id.desc())
    ).all()


def get_link(session: Session, link_id: int, *, lock: bool = False) -> tuple[ContractorLink, Issue]:
    """The hand-over and its issue; `lock` for a change, so that of two at once (two "done"
    taps) the second sees the first."""
    query = select(ContractorLink).where(ContractorLink.id == link_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    link = session.scalars(query).one_or_none()
    if link is None:
        raise NotFound(i18n.text("error.contractor.link_not_found", id=link_id))
    return link, session.get_one(Issue, link.issue_id)


def is_active(link: ContractorLink, issue: Issue) -> bool:
    return _why_gone(link, issue) is None


def _why_gone(link: ContractorLink, issue: Issue) -> i18n.Text | None:
    if link.revoked_at is not None:
        return i18n.text("error.contractor.revoked")
    if utcnow() >= link.expires_at:
        return i18n.text("error.contractor.expired")
    if issue.agency_id != link.agency_id:
        return i18n.text("error.contractor.moved")
    if issue.status not in WORKING:
        return i18n.text("error.contractor.finished", status=_status(issue))
    return None


def open_link(
    session: Session, link_id: int, *, lock: bool = False
) -> tuple[ContractorLink, Issue]:
    """The hand-over a contractor's link names, while the link works (410 once it does not)."""
    link, issue = get_link(session, link_id, lock=lock)
    gone = _why_gone(link, issue)
    if gone is not None:
        raise LinkGone(gone)
    return link, issue


def revoke(session: Session, *, link: ContractorLink, issue: Issue, actor: User) -> None:
    """The handling agency ends a link before it expires; the event keeps who did."""
    _check_handling(actor, issue)
    if link.revoked_at is not None:
        raise Conflict(i18n.text("error.contractor.already_revoked"))
    link.revoked_at = utcnow()
    link.revoked_by_id = actor.id
    _record(
        session,
        issue,
        EventAction.handover_revoked,
        actor,
        i18n.text("message.contractor.revoked", contractor=link.contractor),
    )


def check_may_add_photo(
    session: Session, *, link: ContractorLink, issue: Issue, max_per_issue: int
) -> None:
    """Room for one more photo, as the staff member answerable for the link may add it."""
    photos.check_may_add(
        session,
        issue=issue,
        uploader=session.get_one(User, link.issued_by_id),
        kind=PhotoKind.resolution,
        adding=1,
        max_per_issue=max_per_issue,
    )


def add_photos(
    session: Session,
    *,
    store: PhotoStore,
    link: ContractorLink,
    issue: Issue,
    cleaned: Sequence[CleanPhoto],
    max_per_issue: int,
) -> list[Photo]:
    """After-fix photos through the link: resolution photos, filed under the staff member who
    handed the work over (answerable for it), taken by the contractor on the timeline."""
    issuer = session.get_one(User, link.issued_by_id)
    return photos.add_photos(
        session,
        store=store,
        issue=issue,
        uploader=issuer,
        kind=PhotoKind.resolution,
        photos=cleaned,
        max_per_issue=max_per_issue,
        actor_role=CONTRACTOR_ROLE,
    )


def report_done(session: Session, *, link: ContractorLink, issue: Issue, note: str | None) -> None:
    """The contractor says the work is done, once until the agency answers; the agency's queue
    is told, and it resolves the issue or sends the work back."""
    if link.done_at is not None:
        raise Conflict(i18n.text("error.contractor.already_done"))
    link.done_at = utcnow()
    link.done_note = note
    link.returned_note = None
    _record(
        session,
        issue,
        EventAction.work_done,
        None,
        i18n.text("message.contractor.done", contractor=link.contractor),
        note=note,
    )


def send_back(
    session: Session, *, link: ContractorLink, issue: Issue, actor: User, note: str
) -> None:
    """The agency does not accept the work: the contractor sees why and may report again."""
    _check_handling(actor, issue)
    gone = _why_gone(link, issue)
    if gone is not None:
        raise LinkGone(gone)
    if link.done_at is None:
        raise Conflict(i18n.text("error.contractor.not_done"))
    link.done_at = None
    link.returned_note = note
    _record(
        session,
        issue,
        EventAction.work_returned,
        actor,
        i18n.text("message.contractor.returned", contractor=link.contractor),
        note=note,
    )


def link_read(
    link: ContractorLink, issue: Issue, *, signer: LinkSigner, public_base_url: str
) -> ContractorLinkRead:
    """A hand-over for its agency, with the link to give the contractor."""
    token = signer.contractor_token(link.id)
    return ContractorLinkRead(
        id=link.id,
        issue=issue.public_id,
        contractor=link.contractor,
        instructions=link.instructions,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        done_at=link.done_at,
        done_note=link.done_note,
        active=_why_gone(link, issue) is None,
        url=page_link(public_base_url, f"/contractor/{token}"),
        api_url=api_link(public_base_url, f"/contractor/{token}"),
    )


def work_read(
    session: Session, *, link: ContractorLink, issue: Issue, links: photos.PhotoLinks
) -> ContractorWork:
    """What the contractor needs and no more: the place, the problem, the agency's request and
    the public photos; nothing of the reporter or of the staff."""
    public = photos.photos_by_issue(session, [issue.id], internal_ids=())[issue.id]
    return ContractorWork(
        issue=issue.public_id,
        title=issue.title,
        description=issue.description,
        category=CategoryRef.of(session.get_one(Category, issue.category_id)),
        status=issue.status,
        latitude=issue.location.lat,
        longitude=issue.location.lon,
        address=issue.address,
        agency=AgencyRef.of(session.get_one(Agency, link.agency_id)),
        contractor=link.contractor,
        instructions=link.instructions,
        expires_at=link.expires_at,
        done_at=link.done_at,
        returned_note=link.returned_note,
        photos=[photos.photo_read(p, internal=False, links=links) for p in public],
    )
