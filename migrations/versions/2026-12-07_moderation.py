"""Moderation: citizens flag issues with a reason, categories whose reports are reviewed before
they are published, and redactions whose originals are kept for the audit only.

Revision ID: 9c4f1d7e2a53
Revises: c7f3a9e1d2b6
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types
from migrations.checks import allow_event_actions

revision: str = "9c4f1d7e2a53"
down_revision: str | None = "c7f3a9e1d2b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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
    "rerouted",
    "handed_over",
    "handover_revoked",
    "work_done",
    "work_returned",
)
NEW = ("review_approved", "review_rejected", "redacted")
REVIEW_STATES = ("pending", "approved", "rejected")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = app.models.types.UTCDateTime(timezone=True)


def _add_review() -> None:
    """issue.review with its CHECK constraint, in place: a batch rebuild of issue would drop its
    R*Tree triggers on SQLite."""
    allowed = ", ".join(f"'{state}'" for state in REVIEW_STATES)
    if op.get_context().dialect.name == "postgresql":
        op.add_column("issue", sa.Column("review", sa.String(length=16), nullable=True))
        op.create_check_constraint(op.f("ck_issue_review"), "issue", f"review IN ({allowed})")
    else:
        op.execute(
            "ALTER TABLE issue ADD COLUMN review VARCHAR(16) "
            f"CONSTRAINT ck_issue_review CHECK (review IN ({allowed}))"
        )


def upgrade() -> None:
    allow_event_actions(BEFORE + NEW)
    op.add_column(
        "category",
        sa.Column("review_before_publish", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    _add_review()
    op.create_table(
        "issue_moderation_flag",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("issue_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "abuse",
                "personal_data",
                "not_civic",
                "duplicate",
                name="flag_reason",
                native_enum=False,
                length=16,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_issue_moderation_flag_issue_id_issue"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_issue_moderation_flag_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_moderation_flag")),
        sa.UniqueConstraint(
            "issue_id", "user_id", name="uq_issue_moderation_flag_issue_id_user_id"
        ),
    )
    op.create_index(
        op.f("ix_issue_moderation_flag_issue_id"), "issue_moderation_flag", ["issue_id"]
    )
    op.create_index(op.f("ix_issue_moderation_flag_user_id"), "issue_moderation_flag", ["user_id"])
    op.create_table(
        "redaction",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("issue_id", ID, nullable=False),
        sa.Column("comment_id", ID, nullable=True),
        sa.Column(
            "field",
            sa.Enum(
                "title",
                "description",
                "comment",
                name="redacted_field",
                native_enum=False,
                length=16,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("redacted_by_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "(field = 'comment') = (comment_id IS NOT NULL)",
            name=op.f("ck_redaction_comment_field"),
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issue.id"], name=op.f("fk_redaction_issue_id_issue"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comment.id"],
            name=op.f("fk_redaction_comment_id_comment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["redacted_by_id"],
            ["user_account.id"],
            name=op.f("fk_redaction_redacted_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redaction")),
    )
    op.create_index(op.f("ix_redaction_issue_id"), "redaction", ["issue_id"])
    op.create_index(op.f("ix_redaction_comment_id"), "redaction", ["comment_id"])


def downgrade() -> None:
    op.drop_table("redaction")
    op.drop_table("issue_moderation_flag")
    # In place: SQLite (>= 3.35) drops the column with its own CHECK constraint.
    if op.get_context().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_issue_review"), "issue", type_="check")
    op.execute("ALTER TABLE issue DROP COLUMN review")
    with op.batch_alter_table("category") as batch_op:
        batch_op.drop_column("review_before_publish")
    op.execute(
        sa.text("DELETE FROM issue_event WHERE action IN :new").bindparams(
            sa.bindparam("new", NEW, expanding=True)
        )
    )
    allow_event_actions(BEFORE)
