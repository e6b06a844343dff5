"""Photo redaction: a redaction may be of a photo (its original files' keys kept for the audit).

Revision ID: 6a0d3c5e8f21
Revises: 4d2b8f6a1c93
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6a0d3c5e8f21"
down_revision: str | None = "4d2b8f6a1c93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fields(fields: tuple[str, ...]) -> str:
    return "field IN (" + ", ".join(f"'{f}'" for f in fields) + ")"


def upgrade() -> None:
    with op.batch_alter_table("redaction") as batch_op:
        batch_op.add_column(sa.Column("photo_id", ID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_redaction_photo_id_photo"), "photo", ["photo_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index(op.f("ix_redaction_photo_id"), ["photo_id"])
        batch_op.drop_constraint(op.f("ck_redaction_redacted_field"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_redaction_redacted_field"),
            _fields(("title", "description", "comment", "photo")),
        )
        batch_op.create_check_constraint(
            op.f("ck_redaction_photo_field"), "(field = 'photo') = (photo_id IS NOT NULL)"
        )


def downgrade() -> None:
    op.execute("DELETE FROM redaction WHERE field = 'photo'")
    with op.batch_alter_table("redaction") as batch_op:
        batch_op.drop_constraint(op.f("ck_redaction_photo_field"), type_="check")
        batch_op.drop_constraint(op.f("ck_redaction_redacted_field"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_redaction_redacted_field"), _fields(("title", "description", "comment"))
        )
        batch_op.drop_index(op.f("ix_redaction_photo_id"))
        batch_op.drop_constraint(op.f("fk_redaction_photo_id_photo"), type_="foreignkey")
        batch_op.drop_column("photo_id")
