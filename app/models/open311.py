"""What an Open311 client sent with a service request beyond the issue itself.

Contact details are personal data: they are kept here, apart from the issue, and never published.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdType, utcnow
from app.models.types import UTCDateTime


class Open311Submission(Base):
    __tablename__ = "open311_submission"

    issue_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True
    )
    api_key_id: Mapped[int] = mapped_column(IdType, ForeignKey("api_key.id"), index=True)
    # GeoReport's token resource: exchanged for the service_request_id at /tokens/{token}.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(String(128))
    address_id: Mapped[str | None] = mapped_column(String(128))
    media_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
