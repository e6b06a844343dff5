"""Data-subject rights and retention: erased accounts, issues whose personal data the retention
policy removed, and the privacy audit.

Revision ID: 5b8d2e4f7a91
Revises: 7d3f2b8e1c45
Create Date: 2026-12-07 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "5b8d2e4f7a91"
down_revision: str | None = "7d3f2b8e1c45"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "user_account",
        sa.Column("erased_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
    )
    # A plain ADD COLUMN: a batch rebuild of issue would drop its R*Tree triggers on SQLite.
    op.add_column(
        "issue",
        sa.Column(
            "personal_data_removed_at", app.models.types.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.create_table(
        "privacy_audit",
        sa.Column(
            "action",
            sa.Enum(
                "data_downloaded",
                "account_erased",
                "retention_applied",
                name="privacy_action",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("issue_id", ID, nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_privacy_audit_issue_id_issue"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_privacy_audit_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_audit")),
    )
    op.create_index("ix_privacy_audit_created_at", "privacy_audit", ["created_at"], unique=False)
    op.create_index(op.f("ix_privacy_audit_issue_id"), "privacy_audit", ["issue_id"], unique=False)
    op.create_index(op.f("ix_privacy_audit_user_id"), "privacy_audit", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_audit_user_id"), table_name="privacy_audit")
    op.drop_index(op.f("ix_privacy_audit_issue_id"), table_name="privacy_audit")
    op.drop_index("ix_privacy_audit_created_at", table_name="privacy_audit")
    op.drop_table("privacy_audit")
    # Not batch rebuilds (SQLite >= 3.35 drops a plain column in place).
    op.execute("ALTER TABLE issue DROP COLUMN personal_data_removed_at")
    op.execute("ALTER TABLE user_account DROP COLUMN erased_at")
