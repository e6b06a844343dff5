"""Open311 and open data: category attributes, districts, issue answers, Open311 submissions.

Revision ID: 5e0c311a0d11
Revises: 742df9662c2f
Create Date: 2026-11-26 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

revision: str = "5e0c311a0d11"
down_revision: str | None = "742df9662c2f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _dialect() -> str:
    return op.get_context().dialect.name


def upgrade() -> None:
    op.create_table(
        "category_attribute",
        sa.Column("category_id", ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("variable", sa.Boolean(), nullable=False),
        sa.Column(
            "datatype",
            sa.Enum(
                "string",
                "number",
                "datetime",
                "text",
                "singlevaluelist",
                "multivaluelist",
                name="attribute_datatype",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("datatype_description", sa.String(length=500), nullable=False),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.CheckConstraint(
            "display_order > 0", name=op.f("ck_category_attribute_display_order_positive")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_category_attribute_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_attribute")),
        sa.UniqueConstraint("category_id", "code", name="uq_category_attribute_category_id_code"),
        sa.UniqueConstraint(
            "category_id",
            "display_order",
            name="uq_category_attribute_category_id_display_order",
        ),
    )
    op.create_table(
        "district",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_th", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("area", app.models.types.MultiPolygonType(), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district")),
        sa.UniqueConstraint("code", name=op.f("uq_district_code")),
    )
    if _dialect() == "postgresql":
        op.create_index("ix_district_area", "district", ["area"], postgresql_using="gist")
        op.add_column("issue", sa.Column("district_id", ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_issue_district_id_district"), "issue", "district", ["district_id"], ["id"]
        )
    else:
        # Not a batch rebuild: that would drop the R*Tree triggers on issue. SQLite adds a
        # nullable column with an inline foreign key in place.
        op.execute(
            "ALTER TABLE issue ADD COLUMN district_id INTEGER "
            "CONSTRAINT fk_issue_district_id_district REFERENCES district (id)"
        )
    op.add_column("issue", sa.Column("attributes", sa.JSON(), nullable=False, server_default="{}"))
    op.create_index(op.f("ix_issue_district_id"), "issue", ["district_id"], unique=False)
    for stage in ("acknowledged", "resolved"):
        due = "acknowledge_due_at" if stage == "acknowledged" else "resolve_due_at"
        op.create_index(
            f"ix_issue_{stage}_at",
            "issue",
            [f"{stage}_at", "created_at", due],
            unique=False,
            postgresql_where=sa.text(f"{stage}_at IS NOT NULL"),
            sqlite_where=sa.text(f"{stage}_at IS NOT NULL"),
        )
    op.create_table(
        "open311_submission",
        sa.Column("issue_id", ID, nullable=False),
        sa.Column("api_key_id", ID, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("first_name", sa.String(length=120), nullable=True),
        sa.Column("last_name", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("address_id", sa.String(length=128), nullable=True),
        sa.Column("media_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_open311_submission_api_key_id_api_key")
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_open311_submission_issue_id_issue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", name=op.f("pk_open311_submission")),
        sa.UniqueConstraint("token", name=op.f("uq_open311_submission_token")),
    )
    op.create_index(
        op.f("ix_open311_submission_api_key_id"),
        "open311_submission",
        ["api_key_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_open311_submission_api_key_id"), table_name="open311_submission")
    op.drop_table("open311_submission")
    op.drop_index("ix_issue_resolved_at", table_name="issue")
    op.drop_index("ix_issue_acknowledged_at", table_name="issue")
    op.drop_index(op.f("ix_issue_district_id"), table_name="issue")
    if _dialect() == "postgresql":
        op.drop_constraint(op.f("fk_issue_district_id_district"), "issue", type_="foreignkey")
        op.drop_index("ix_district_area", table_name="district", postgresql_using="gist")
    # In place on SQLite too (3.35+ drops a column, its inline foreign key with it), so the
    # R*Tree triggers on issue stay.
    op.execute("ALTER TABLE issue DROP COLUMN attributes")
    op.execute("ALTER TABLE issue DROP COLUMN district_id")
    op.drop_table("district")
    op.drop_table("category_attribute")
