"""Agency work: an issue's assignee (one staff member of the handling agency), and whom an
`assigned` event gave it to.

Revision ID: 5e2b7c41d9a8
Revises: 3f7405bb3d0a
Create Date: 2026-11-26 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e2b7c41d9a8"
down_revision: str | None = "3f7405bb3d0a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ("issue", "issue_event")


def _fk(table: str) -> str:
    return f"fk_{table}_assignee_id_user_account"


def upgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.add_column(table, sa.Column("assignee_id", ID, nullable=True))
            op.create_foreign_key(_fk(table), table, "user_account", ["assignee_id"], ["id"])
        else:
            # Not a batch rebuild: that would drop the R*Tree triggers on issue.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN assignee_id INTEGER "
                f"CONSTRAINT {_fk(table)} REFERENCES user_account (id)"
            )
    op.create_index(op.f("ix_issue_assignee_id"), "issue", ["assignee_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_issue_assignee_id"), table_name="issue")
    # issue_event has no triggers, and a later batch rebuild of it (on SQLite) may have turned
    # the inline foreign key into a table constraint that an in-place DROP COLUMN refuses.
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.drop_constraint(_fk(table), table, type_="foreignkey")
    with op.batch_alter_table("issue_event") as batch_op:
        batch_op.drop_column("assignee_id")
    # In place on SQLite (3.35+ drops the column with its inline foreign key): a batch rebuild
    # would drop the R*Tree triggers on issue.
    op.execute("ALTER TABLE issue DROP COLUMN assignee_id")
