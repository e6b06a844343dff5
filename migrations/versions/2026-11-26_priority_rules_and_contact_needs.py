"""Priority rules (which flag raises an issue to which priority, how each priority scales the
category's targets, when a step is at risk) and the contact needs people state on their profile.

Revision ID: 3f7405bb3d0a
Revises: a0771b8ba067
Create Date: 2026-11-26 07:17:49.710357
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "3f7405bb3d0a"
down_revision: str | None = "a0771b8ba067"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "priority_rules",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("flag_priority", sa.JSON(), nullable=False),
        sa.Column("target_factor", sa.JSON(), nullable=False),
        sa.Column("at_risk_percent", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "at_risk_percent BETWEEN 1 AND 99", name=op.f("ck_priority_rules_at_risk_percent_range")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_priority_rules_single_row")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_priority_rules_updated_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_rules")),
    )
    op.add_column(
        "user_account", sa.Column("contact_needs", sa.JSON(), server_default="[]", nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("contact_needs")

    op.drop_table("priority_rules")
