"""The issue's audit trail: one immutable row per change, in order."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.agency import Agency
from app.models.base import Base, IdMixin, IdType, utcnow
from app.models.issue import IssueStatus, Resolution
from app.models.types import UTCDateTime
from app.models.user import User


class EventAction(StrEnum):
    reported = "reported"
    claimed = "claimed"
    started = "started"
    resolved = "resolved"
    closed = "closed"
    reopened = "reopened"
    transferred = "transferred"
    edited = "edited"
    photo_added = "photo_added"
    photo_hidden = "photo_hidden"
    photo_restored = "photo_restored"
    supported = "supported"  # someone else reported it too ("me too")
    merged = "merged"  # this duplicate was merged into its canonical issue
    merged_in = "merged_in"  # a duplicate was merged into this issue
    commented = "commented"  # a public comment
    noted = "noted"  # an internal note, for the handling agency
    comment_hidden = "comment_hidden"
    comment_restored = "comment_restored"
    hidden = "hidden"  # the issue itself hidden by moderation
    unhidden = "unhidden"
    priority_changed = "priority_changed"  # priority or flags changed, deadlines recomputed
    assigned = "assigned"  # given to (or taken from) a staff member
    rerouted = "rerouted"  # an admin's jurisdiction or category change moved an unclaimed issue
    review_approved = "review_approved"  # published after review (perhaps edited)
    review_rejected = "review_rejected"  # not published, with the reason the reporter is told
    redacted = "redacted"  # staff removed text from the issue or a comment
    # The contractor hand-over (app.services.contractors): handed, link revoked, work reported
    # done by the contractor, sent back to them by the agency.
    handed_over = "handed_over"
    handover_revoked = "handover_revoked"
    work_done = "work_done"
    work_returned = "work_returned"


def _enum(enum: type[StrEnum], name: str) -> Enum:
    return Enum(enum, native_enum=False, length=16, create_constraint=True, name=name)


class IssueEvent(IdMixin, Base):
    __tablename__ = "issue_event"
    __table_args__ = (Index("ix_issue_event_issue_id_id", "issue_id", "id"),)

    issue_id: Mapped[int] = mapped_column(IdType, ForeignKey("issue.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[EventAction] = mapped_column(_enum(EventAction, "event_action"))
    actor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    # The agency the actor acted for, kept even if the person later changes agency.
    actor_agency_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("agency.id"))
    from_status: Mapped[IssueStatus | None] = mapped_column(_enum(IssueStatus, "event_from_status"))
    to_status: Mapped[IssueStatus] = mapped_column(_enum(IssueStatus, "event_to_status"))
    from_agency_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("agency.id"))
    to_agency_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("agency.id"))
    resolution: Mapped[Resolution | None] = mapped_column(_enum(Resolution, "event_resolution"))
    # What a person wrote, kept as written (shown labelled, in no translation).
    note: Mapped[str | None] = mapped_column(Text)
    # What the system says of the step, as a catalog key and its parameters
    # (`i18n.stored`), worded for each reader in their language.
    message_key: Mapped[str | None] = mapped_column(String(64))
    message_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    # Role of the actor at the time, for public timelines that name no person.
    actor_role: Mapped[str] = mapped_column(String(16))
    # The photo a photo_* event is about.
    photo_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("photo.id", ondelete="SET NULL")
    )
    # The comment or note a commented/noted/comment_* event is about.
    comment_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("comment.id", ondelete="SET NULL")
    )
    # Who an `assigned` event gave the issue to (None: released, no one).
    assignee_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    # The other issue of a merged / merged_in event.
    related_issue_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("issue.id", ondelete="SET NULL")
    )
    # Copied from another system's history by `civicloop import` (its time is the source's).
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")
    actor_agency: Mapped[Agency | None] = relationship(foreign_keys=[actor_agency_id], lazy="raise")
    from_agency: Mapped[Agency | None] = relationship(foreign_keys=[from_agency_id], lazy="raise")
    to_agency: Mapped[Agency | None] = relationship(foreign_keys=[to_agency_id], lazy="raise")
