"""Imported history: where an imported issue came from (its source id, the import's idempotency
key), how far an incremental source was read, and which timeline events were imported.

Revision ID: a15e29655fc4
Revises: 5b8d2e4f7a91
Create Date: 2026-12-07 15:04:59.686186
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "a15e29655fc4"
down_revision: str | None = "5b8d2e4f7a91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_cursor",
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("read_until", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_until", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_import_cursor")),
    )
    op.create_table(
        "issue_import",
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("source_status", sa.String(length=100), nullable=True),
        sa.Column("source_updated_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("agency_name", sa.String(length=300), nullable=True),
        sa.Column("address_id", sa.String(length=200), nullable=True),
        sa.Column("zipcode", sa.String(length=40), nullable=True),
        sa.Column("media_urls", sa.JSON(), nullable=False),
        sa.Column("imported_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_issue_import_issue_id_issue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", name=op.f("pk_issue_import")),
        sa.UniqueConstraint("source", "external_id", name="uq_issue_import_source_external_id"),
    )
    with op.batch_alter_table("issue_import", schema=None) as batch_op:
        batch_op.create_index("ix_issue_import_external_id", ["external_id"], unique=False)

    with op.batch_alter_table("issue_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("imported", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("issue_event", schema=None) as batch_op:
        batch_op.drop_column("imported")

    with op.batch_alter_table("issue_import", schema=None) as batch_op:
        batch_op.drop_index("ix_issue_import_external_id")

    op.drop_table("issue_import")
    op.drop_table("import_cursor")
