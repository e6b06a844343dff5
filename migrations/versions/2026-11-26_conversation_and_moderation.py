"""Conversation and moderation: comments and internal notes, their flags, agencies' response
templates, the comment an event is about, and issues hidden by moderation.

Revision ID: a0771b8ba067
Revises: a3c9e1f0b7d2
Create Date: 2026-11-26 07:19:29.415549
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "a0771b8ba067"
down_revision: str | None = "a3c9e1f0b7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "response_template",
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("body_th", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_response_template_agency_id_agency"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_template")),
        sa.UniqueConstraint("agency_id", "name", name="uq_response_template_agency_id_name"),
    )
    op.create_table(
        "comment",
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column(
            "author_agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "template_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hidden_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "hidden_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_agency_id"], ["agency.id"], name=op.f("fk_comment_author_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_comment_author_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hidden_by_id"],
            ["user_account.id"],
            name=op.f("fk_comment_hidden_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issue.id"], name=op.f("fk_comment_issue_id_issue"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["response_template.id"],
            name=op.f("fk_comment_template_id_response_template"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_comment_issue_id_id", ["issue_id", "id"], unique=False)

    op.create_table(
        "comment_flag",
        sa.Column(
            "comment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comment.id"],
            name=op.f("fk_comment_flag_comment_id_comment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_comment_flag_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_flag")),
        sa.UniqueConstraint("comment_id", "user_id", name="uq_comment_flag_comment_id_user_id"),
    )
    with op.batch_alter_table("comment_flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_flag_user_id"), ["user_id"], unique=False)

    # A plain ADD COLUMN: a batch rebuild of issue would drop its R*Tree triggers on SQLite.
    op.add_column(
        "issue", sa.Column("hidden_at", app.models.types.UTCDateTime(timezone=True), nullable=True)
    )

    with op.batch_alter_table("issue_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "comment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_issue_event_comment_id_comment"),
            "comment",
            ["comment_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("issue_event", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_issue_event_comment_id_comment"), type_="foreignkey"
        )
        batch_op.drop_column("comment_id")

    # Not a batch rebuild either (SQLite >= 3.35 drops a plain column in place).
    op.execute("ALTER TABLE issue DROP COLUMN hidden_at")

    with op.batch_alter_table("comment_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_flag_user_id"))

    op.drop_table("comment_flag")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_issue_id_id")
        batch_op.drop_index(batch_op.f("ix_comment_author_id"))

    op.drop_table("comment")
    op.drop_table("response_template")
