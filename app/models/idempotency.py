"""Idempotency keys: the first response to a create, replayed to retries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, utcnow
from app.models.types import UTCDateTime


class IdempotencyRecord(IdMixin, Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (
        UniqueConstraint("principal", "key", name="uq_idempotency_record_principal_key"),
    )

    # Who sent it ("user:42", "anonymous"): a key is only meaningful per client.
    principal: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of method, path and body: the same key with another request is an error.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Filled in the same transaction that created the thing, so no one ever sees them empty.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
