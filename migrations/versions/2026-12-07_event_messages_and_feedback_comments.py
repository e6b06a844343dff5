"""Messages the system writes on a timeline are stored as catalog keys with parameters
(issue_event.message_key, message_params), worded per reader; a reporter's feedback comment is
also a public comment (issue_feedback.comment_id).

Revision ID: 4b1e9c7d2a60
Revises: 3f1e9a6c2b70
Create Date: 2026-12-07 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4b1e9c7d2a60"
down_revision: str | None = "3f1e9a6c2b70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FK = "fk_issue_feedback_comment_id_comment"


def upgrade() -> None:
    op.add_column("issue_event", sa.Column("message_key", sa.String(length=64), nullable=True))
    op.add_column("issue_event", sa.Column("message_params", sa.JSON(), nullable=True))
    # A batch rebuild on SQLite (issue_feedback has no triggers to lose), so the foreign key
    # is a named table constraint, as the model declares it.
    with op.batch_alter_table("issue_feedback") as batch_op:
        batch_op.add_column(sa.Column("comment_id", ID, nullable=True))
        batch_op.create_foreign_key(FK, "comment", ["comment_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("issue_feedback") as batch_op:
        batch_op.drop_column("comment_id")
    with op.batch_alter_table("issue_event") as batch_op:
        batch_op.drop_column("message_params")
        batch_op.drop_column("message_key")
