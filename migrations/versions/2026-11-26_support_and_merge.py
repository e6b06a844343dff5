"""Support ("me too") and merging duplicates: the support table, issue.duplicate_of_id and the
other issue of a merged/merged_in event.

Revision ID: d7b2c4e8f1a6
Revises: 5e2b7c41d9a8
Create Date: 2026-11-26 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "d7b2c4e8f1a6"
down_revision: str | None = "5e2b7c41d9a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _dialect() -> str:
    return op.get_context().dialect.name


def _add_duplicate_of() -> None:
    if _dialect() == "postgresql":
        op.add_column("issue", sa.Column("duplicate_of_id", ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_issue_duplicate_of_id_issue"), "issue", "issue", ["duplicate_of_id"], ["id"]
        )
    else:
        # In place, not a batch rebuild: rebuilding issue would drop its R*Tree triggers.
        op.execute(
            "ALTER TABLE issue ADD COLUMN duplicate_of_id INTEGER "
            "CONSTRAINT fk_issue_duplicate_of_id_issue REFERENCES issue (id)"
        )


def upgrade() -> None:
    op.create_table(
        "support",
        sa.Column("issue_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("carried_from_id", ID, nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["carried_from_id"],
            ["issue.id"],
            name=op.f("fk_support_carried_from_id_issue"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issue.id"], name=op.f("fk_support_issue_id_issue"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_support_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support")),
        sa.UniqueConstraint("issue_id", "user_id", name="uq_support_issue_id_user_id"),
    )
    op.create_index(op.f("ix_support_user_id"), "support", ["user_id"], unique=False)
    _add_duplicate_of()
    op.create_index(op.f("ix_issue_duplicate_of_id"), "issue", ["duplicate_of_id"], unique=False)
    # issue_event has no triggers: a batch rebuild on SQLite is safe there.
    with op.batch_alter_table("issue_event") as batch_op:
        batch_op.add_column(sa.Column("related_issue_id", ID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_issue_event_related_issue_id_issue"),
            "issue",
            ["related_issue_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("issue_event") as batch_op:
        batch_op.drop_constraint(op.f("fk_issue_event_related_issue_id_issue"), type_="foreignkey")
        batch_op.drop_column("related_issue_id")
    op.drop_index(op.f("ix_issue_duplicate_of_id"), table_name="issue")
    if _dialect() == "postgresql":
        op.drop_constraint(op.f("fk_issue_duplicate_of_id_issue"), "issue", type_="foreignkey")
    # SQLite 3.35+ drops the column with its inline foreign key, in place.
    op.execute("ALTER TABLE issue DROP COLUMN duplicate_of_id")
    op.drop_index(op.f("ix_support_user_id"), table_name="support")
    op.drop_table("support")
