"""Photos: the photo and photo_file tables, and photo events on the issue's audit trail.

Revision ID: 7517fff83f86
Revises: 5e0c311a0d11
Create Date: 2026-11-26 04:25:22.942544
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types
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
)
AFTER = (*BEFORE, "photo_added", "photo_hidden", "photo_restored")


revision: str = "7517fff83f86"
down_revision: str | None = "5e0c311a0d11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "report",
                "resolution",
                name="photo_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "uploader_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("captured_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("hidden_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "hidden_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["hidden_by_id"], ["user_account.id"], name=op.f("fk_photo_hidden_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issue.id"], name=op.f("fk_photo_issue_id_issue"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"], ["user_account.id"], name=op.f("fk_photo_uploader_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo")),
    )
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.create_index("ix_photo_issue_id_id", ["issue_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_photo_uploader_id"), ["uploader_id"], unique=False)

    op.create_table(
        "photo_file",
        sa.Column("photo_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "variant",
            sa.Enum(
                "thumbnail",
                "display",
                "full",
                name="photo_variant",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["photo.id"],
            name=op.f("fk_photo_file_photo_id_photo"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("photo_id", "variant", name=op.f("pk_photo_file")),
    )
    with op.batch_alter_table("photo_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photo_file_key"), ["key"], unique=False)

    with op.batch_alter_table("issue_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "photo_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_issue_event_photo_id_photo"),
            "photo",
            ["photo_id"],
            ["id"],
            ondelete="SET NULL",
        )
    allow_event_actions(AFTER)


def downgrade() -> None:
    # Photo events cannot survive the constraint without them.
    op.execute("DELETE FROM issue_event WHERE action LIKE 'photo%'")
    allow_event_actions(BEFORE)
    with op.batch_alter_table("issue_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_issue_event_photo_id_photo"), type_="foreignkey")
        batch_op.drop_column("photo_id")

    with op.batch_alter_table("photo_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_file_key"))

    op.drop_table("photo_file")
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_uploader_id"))
        batch_op.drop_index("ix_photo_issue_id_id")

    op.drop_table("photo")
