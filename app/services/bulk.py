"""Bulk operations: one change applied to many issues, each on its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app import i18n
from app.errors import ConcurrentUpdate, DomainError, ValidationFailed
from app.models import Issue
from app.services import issues

# Applies the change to one issue, given the version the caller expects (None: any).
Change = Callable[[Issue, int | None], object]


@dataclass(frozen=True)
class Outcome:
    public_id: str
    version: int | None = None  # on success, the issue's new version
    error: DomainError | None = None


def apply_each(
    session: Session, *, items: Sequence[tuple[str, int | None]], change: Change
) -> list[Outcome]:
    """Apply `change` to each issue in its own savepoint: a failure undoes only its own item and
    is reported with its problem, never the others. An issue listed twice is changed once."""
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    for public_id, version in items:
        if public_id in seen:
            outcomes.append(Outcome(public_id, error=ValidationFailed(i18n.text("bulk.duplicate"))))
            continue
        seen.add(public_id)
        try:
            with session.begin_nested():
                issue = issues.get_issue(session, public_id)
                change(issue, version)
                session.flush()
            outcomes.append(Outcome(public_id, version=issue.version))
        except DomainError as exc:
            outcomes.append(Outcome(public_id, error=exc))
        except StaleDataError:
            outcomes.append(
                Outcome(public_id, error=ConcurrentUpdate(i18n.text("bulk.concurrent")))
            )
    return outcomes
