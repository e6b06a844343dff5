"""A city described in one file: the city row (languages, time zone, general category), names
in every language the city gives, agencies that can be deactivated, and `rerouted` events.

Revision ID: 5e1c0a7d9b24
Revises: 8c7ada02b79b
Create Date: 2026-12-07 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types
from migrations.checks import allow_event_actions

revision: str = "5e1c0a7d9b24"
down_revision: str | None = "8c7ada02b79b"
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
)
NEW = ("rerouted",)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    allow_event_actions(BEFORE + NEW)
    op.create_table(
        "city",
        sa.Column("id", ID, nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("default_language", sa.String(length=16), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("general_category_code", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city")),
    )
    for table in ("agency", "category", "district"):
        op.add_column(table, sa.Column("names", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column(
        "category", sa.Column("group_names", sa.JSON(), nullable=False, server_default="{}")
    )
    op.add_column(
        "agency",
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    with op.batch_alter_table("agency") as batch_op:
        batch_op.drop_column("is_active")
        batch_op.drop_column("names")
    with op.batch_alter_table("category") as batch_op:
        batch_op.drop_column("group_names")
        batch_op.drop_column("names")
    with op.batch_alter_table("district") as batch_op:
        batch_op.drop_column("names")
    op.drop_table("city")
    op.execute(
        sa.text("DELETE FROM issue_event WHERE action IN :new").bindparams(
            sa.bindparam("new", NEW, expanding=True)
        )
    )
    allow_event_actions(BEFORE)
