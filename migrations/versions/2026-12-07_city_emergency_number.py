"""The city's emergency number, for districts without their own: set by the city file or an admin.

Revision ID: 8c4e1a7b2d90
Revises: 6a0d3c5e8f21
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c4e1a7b2d90"
down_revision: str | None = "6a0d3c5e8f21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("city") as batch_op:
        batch_op.add_column(sa.Column("emergency_number", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("city") as batch_op:
        batch_op.drop_column("emergency_number")
