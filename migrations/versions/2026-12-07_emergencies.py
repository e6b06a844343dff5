"""Emergencies: categories (and answers, in their attribute values) marked emergency stop a
report; districts carry their emergency number; every stop is counted (emergency_stop).

Revision ID: 7d3f2b8e1c45
Revises: 4b1e9c7d2a60
Create Date: 2026-12-07 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "7d3f2b8e1c45"
down_revision: str | None = "4b1e9c7d2a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "category",
        sa.Column("emergency", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("district", sa.Column("emergency_number", sa.String(length=32), nullable=True))
    op.create_table(
        "emergency_stop",
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("category_id", ID, nullable=False),
        sa.Column("district_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("attribute_code", sa.String(length=64), nullable=True),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_emergency_stop_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_emergency_stop_district_id_district"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_stop")),
    )
    op.create_index(
        op.f("ix_emergency_stop_category_id"), "emergency_stop", ["category_id"], unique=False
    )
    op.create_index(
        op.f("ix_emergency_stop_created_at"), "emergency_stop", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_emergency_stop_created_at"), table_name="emergency_stop")
    op.drop_index(op.f("ix_emergency_stop_category_id"), table_name="emergency_stop")
    op.drop_table("emergency_stop")
    with op.batch_alter_table("district") as batch_op:
        batch_op.drop_column("emergency_number")
    with op.batch_alter_table("category") as batch_op:
        batch_op.drop_column("emergency")
