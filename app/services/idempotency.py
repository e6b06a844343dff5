"""Idempotency keys: the first response to a create is stored and replayed to every retry."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import Conflict, IdempotencyKeyReused
from app.models import IdempotencyRecord
from app.models.base import utcnow

# Headers worth replaying; the rest (date, server, length) belong to the new response.
REPLAYED_HEADERS = ("content-type", "location", "etag")


@dataclass(frozen=True)
class Claim:
    record_id: int


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


def fingerprint(method: str, path: str, body_digest: str) -> str:
    """What makes two requests the same request; uploads are hashed while they stream in."""
    return hashlib.sha256("\0".join((method, path, body_digest)).encode()).hexdigest()


def claim(
    session: Session, *, principal: str, key: str, request_fingerprint: str, ttl: dt.timedelta
) -> Claim | StoredResponse:
    """Reserve the key for this request, or return the response stored for it.

    On PostgreSQL a concurrent retry's INSERT waits for the first transaction and then conflicts;
    on SQLite writers are serialised by BEGIN IMMEDIATE. Either way the retry sees the first
    request's committed response, and creates nothing.
    """
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < utcnow() - ttl,
        )
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(IdempotencyRecord)
        .values(principal=principal, key=key, fingerprint=request_fingerprint, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["principal", "key"])
        .returning(IdempotencyRecord.id)
    )
    record_id = session.execute(statement).scalar_one_or_none()
    if record_id is not None:
        return Claim(record_id)
    record = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
        )
    ).one()
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; "
            "use a new key for a new request."
        )
    if record.status_code is None or record.response_body is None:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry.")
    return StoredResponse(
        record.status_code, dict(record.response_headers or {}), record.response_body
    )


def record_response(
    session: Session, current: Claim, *, status_code: int, headers: dict[str, str], body: bytes
) -> None:
    """Store the response in the transaction that made it, so both commit or neither does."""
    record = session.get_one(IdempotencyRecord, current.record_id)
    record.status_code = status_code
    record.response_headers = {k: v for k, v in headers.items() if k in REPLAYED_HEADERS}
    record.response_body = body
