"""LINE: the residents who report through the LINE chat (their report in the making) and the
`line` notification channel that pushes status updates to them.

Revision ID: 4d2b8f6a1c93
Revises: 2e8b6f4a9d17
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "4d2b8f6a1c93"
down_revision: str | None = "2e8b6f4a9d17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("email", "webhook", "webpush")
NEW = ("line",)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _channels(channels: tuple[str, ...]) -> None:
    """Replace the CHECK constraint that lists the channels (a batch rebuild on SQLite)."""
    allowed = ", ".join(f"'{channel}'" for channel in channels)
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_channel"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_channel"), f"channel IN ({allowed})")


def upgrade() -> None:
    _channels(BEFORE + NEW)
    op.create_table(
        "line_contact",
        sa.Column("line_user_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("photo_message_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_line_contact_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("line_user_id", name=op.f("pk_line_contact")),
        sa.UniqueConstraint("user_id", name=op.f("uq_line_contact_user_id")),
    )


def downgrade() -> None:
    op.drop_table("line_contact")
    op.execute(
        sa.text("DELETE FROM notification WHERE channel IN :new").bindparams(
            sa.bindparam("new", NEW, expanding=True)
        )
    )
    _channels(BEFORE)
