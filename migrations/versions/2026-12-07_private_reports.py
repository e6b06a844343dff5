"""Private reports: an issue the reporter asked to keep from the public.

Revision ID: 3f1e9a6c2b70
Revises: 5e1c0a7d9b24
Create Date: 2026-12-07 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f1e9a6c2b70"
down_revision: str | None = "5e1c0a7d9b24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild of issue would drop its R*Tree triggers on SQLite.
    op.add_column(
        "issue",
        sa.Column("is_private", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    # Not a batch rebuild either (SQLite >= 3.35 drops a plain column in place).
    op.execute("ALTER TABLE issue DROP COLUMN is_private")
