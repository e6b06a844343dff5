"""Event kinds for support, merging, conversation, moderation, priority and assignment; flags
on issues and categories.

Revision ID: a3c9e1f0b7d2
Revises: 83e3e1138733
Create Date: 2026-11-26 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.checks import allow_event_actions

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


def upgrade() -> None:
    allow_event_actions(BEFORE + NEW)
    op.create_table(
        "issue_flag",
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "flag",
            sa.Enum(
                "accessibility",
                "vulnerable_people_affected",
                "safety_hazard",
                name="flag",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_issue_flag_issue_id_issue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", "flag", name=op.f("pk_issue_flag")),
    )
    op.create_index("ix_issue_flag_flag", "issue_flag", ["flag"], unique=False)
    op.add_column("category", sa.Column("flags", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("category") as batch_op:
        batch_op.drop_column("flags")
    op.drop_index("ix_issue_flag_flag", table_name="issue_flag")
    op.drop_table("issue_flag")
    # Events of the new kinds cannot survive the constraint without them.
    op.execute(
        sa.text("DELETE FROM issue_event WHERE action IN :new").bindparams(
            sa.bindparam("new", NEW, expanding=True)
        )
    )
    allow_event_actions(BEFORE)
