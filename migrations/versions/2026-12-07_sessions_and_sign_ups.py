"""Login sessions (one auth_session row per login, named by its access and refresh tokens) and
sign-ups waiting for their e-mail confirmation (registration).

Tokens issued before this revision name no session and stop working: everyone logs in again.

Revision ID: 8c7ada02b79b
Revises: d7b2c4e8f1a6
Create Date: 2026-12-07 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "8c7ada02b79b"
down_revision: str | None = "d7b2c4e8f1a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "auth_session",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("ended_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "end_reason",
            sa.Enum(
                "logout",
                "reuse",
                "deactivated",
                "password_reset",
                name="session_end",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("id", ID, nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_auth_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
    )
    op.create_index(op.f("ix_auth_session_user_id"), "auth_session", ["user_id"], unique=False)
    op.create_table(
        "registration",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column(
            "language",
            sa.Enum(
                "th", "en", name="language", native_enum=False, create_constraint=True, length=8
            ),
            nullable=False,
        ),
        sa.Column("device_id_hash", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", ID, nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration")),
    )
    op.create_index(op.f("ix_registration_email"), "registration", ["email"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_registration_email"), table_name="registration")
    op.drop_table("registration")
    op.drop_index(op.f("ix_auth_session_user_id"), table_name="auth_session")
    op.drop_table("auth_session")
