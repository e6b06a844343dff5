"""Bulk operations: one change applied to many issues, each on its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app import i18n
from app.errors import ConcurrentUpdate, DomainError, PreconditionRequired, ValidationFailed
from app.models import Issue, User
from app.services import issues, permissions

# Applies the change to one issue, given the version the caller expects (None: any).
Change = Callable[[Issue, int | None], object]
# An item's version as sent: the version decided on, "*" for any (If-Match: *), or none.
Version = int | Literal["*"] | None


@dataclass(frozen=True)
class Outcome:
    public_id: str
    version: int | None = None  # on success, the issue's new version
    error: DomainError | None = None


def apply_each(
    session: Session, *, actor: User, items: Sequence[tuple[str, Version]], change: Change
) -> list[Outcome]:
    """Apply `change` to each issue in its own savepoint: a failure undoes only its own item and
    is reported with its problem, never the others. An issue listed twice is changed once; an
    item of staff without a version fails with 428, as their single change without If-Match."""
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    for index, (public_id, version) in enumerate(items):
        if public_id in seen:
            outcomes.append(Outcome(public_id, error=ValidationFailed(i18n.text("bulk.duplicate"))))
            continue
        seen.add(public_id)
        if version is None and permissions.must_name_version(actor):
            required = PreconditionRequired(
                i18n.text("bulk.version_required"), field=f"body.issues.{index}.version"
            )
            outcomes.append(Outcome(public_id, error=required))
            continue
        try:
            with session.begin_nested():
                issue = issues.get_issue(session, public_id)
                change(issue, None if version == "*" else version)
                session.flush()
            outcomes.append(Outcome(public_id, version=issue.version))
        except DomainError as exc:
            outcomes.append(Outcome(public_id, error=exc))
        except StaleDataError:
            outcomes.append(
                Outcome(public_id, error=ConcurrentUpdate(i18n.text("bulk.concurrent")))
            )
    return outcomes
