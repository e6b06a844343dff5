"""Event kinds for support, merging, conversation, moderation, priority and assignment.

Revision ID: a3c9e1f0b7d2
Revises: 83e3e1138733
Create Date: 2026-11-26 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

BEFORE = (
    "reported",
    "claimed",
    "started",
    "resolved",
    "closed",
    "reopened",
    "transferred",
    "edited",
    "photo_added",
    "photo_hidden",
    "photo_restored",
)
NEW = (
    "supported",
    "merged",
    "merged_in",
    "commented",
    "noted",
    "comment_hidden",
    "comment_restored",
    "hidden",
    "unhidden",
    "priority_changed",
    "assigned",
)

revision: str = "a3c9e1f0b7d2"
down_revision: str | None = "83e3e1138733"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _event_actions(actions: tuple[str, ...]) -> None:
    """Replace the CHECK constraint that lists the event kinds (a batch rebuild on SQLite)."""
    allowed = ", ".join(f"'{action}'" for action in actions)
    with op.batch_alter_table("issue_event") as batch_op:
        batch_op.drop_constraint(op.f("ck_issue_event_event_action"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_issue_event_event_action"), f"action IN ({allowed})"
        )


def upgrade() -> None:
    _event_actions(BEFORE + NEW)


def downgrade() -> None:
    # Events of the new kinds cannot survive the constraint without them.
    op.execute(
        sa.text("DELETE FROM issue_event WHERE action IN :new").bindparams(
            sa.bindparam("new", NEW, expanding=True)
        )
    )
    _event_actions(BEFORE)
