"""Work handed by an agency to a contractor through a signed link, without an account."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, utcnow
from app.models.types import UTCDateTime


class ContractorLink(IdMixin, Base):
    """One hand-over: the signed link names this row, so revoking or expiring it here ends the
    link whatever its signature says."""

    __tablename__ = "contractor_link"

    issue_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("issue.id", ondelete="CASCADE"), index=True
    )
    # The agency that handed it over: the link ends when the issue leaves that agency.
    agency_id: Mapped[int] = mapped_column(IdType, ForeignKey("agency.id"))
    # The staff member answerable for the contractor's work; their photos are filed as theirs.
    issued_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"))
    # Who the work went to, as the agency names them (a firm, a crew).
    contractor: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    # Set when the contractor says the work is done; cleared when the agency sends it back.
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_note: Mapped[str | None] = mapped_column(Text)
    # Why the agency last sent the work back (shown to the contractor until they report again).
    returned_note: Mapped[str | None] = mapped_column(Text)
