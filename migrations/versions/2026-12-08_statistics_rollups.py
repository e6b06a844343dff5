"""Statistics rollups: issues per local day and response-time histograms, by agency, category
and district, filled from the issues already stored.

Revision ID: 3f7a9c1d5e20
Revises: 8c4e1a7b2d90
Create Date: 2026-12-08 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f7a9c1d5e20"
down_revision: str | None = "8c4e1a7b2d90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "issue_day_rollup",
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category_id", ID, nullable=False),
        sa.Column("agency_id", ID, nullable=False),
        sa.Column("district_id", ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain",
            "day",
            "category_id",
            "agency_id",
            "district_id",
            "status",
            name=op.f("pk_issue_day_rollup"),
        ),
    )
    op.create_table(
        "issue_duration_rollup",
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category_id", ID, nullable=False),
        sa.Column("agency_id", ID, nullable=False),
        sa.Column("district_id", ID, nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain",
            "stage",
            "day",
            "category_id",
            "agency_id",
            "district_id",
            "minute",
            name=op.f("pk_issue_duration_rollup"),
        ),
    )
    # The same contributions the live path adds (one place for the rule).
    from app.services import rollups

    rollups.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("issue_duration_rollup")
    op.drop_table("issue_day_rollup")
