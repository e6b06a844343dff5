"""Verified contacts: when each account's e-mail address was shown to be its owner's. Accounts
that exist already keep receiving messages (sign-ups were confirmed by a mailed link; staff and
admins were vouched for by whoever made them), so their addresses count as verified.

Revision ID: 2e8b6f4a9d17
Revises: 9c4f1d7e2a53
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "2e8b6f4a9d17"
down_revision: str | None = "9c4f1d7e2a53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "user_account",
        sa.Column("email_verified_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.execute("UPDATE user_account SET email_verified_at = created_at WHERE email IS NOT NULL")


def downgrade() -> None:
    # In place on both databases (SQLite >= 3.35): a rebuild of a table so many others
    # reference is not worth it for one plain column.
    op.execute("ALTER TABLE user_account DROP COLUMN email_verified_at")
