"""Initial schema: categories, agencies, accounts, issues, their events and idempotency keys.

Revision ID: 742df9662c2f
Revises:
Create Date: 2026-11-25 03:38:14.285131
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types

# SQLite has no spatial index type: an R*Tree virtual table, kept in step with issue.location by
# triggers calling functions that app.spatial.sqlite registers on every connection.
SQLITE_RTREE = (
    "CREATE VIRTUAL TABLE issue_location_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat)",
    """CREATE TRIGGER issue_location_rtree_insert AFTER INSERT ON issue BEGIN
        INSERT INTO issue_location_rtree VALUES (NEW.id,
            civicloop_lon(NEW.location), civicloop_lon(NEW.location),
            civicloop_lat(NEW.location), civicloop_lat(NEW.location));
    END""",
    """CREATE TRIGGER issue_location_rtree_update AFTER UPDATE OF location ON issue BEGIN
        UPDATE issue_location_rtree SET
            min_lon = civicloop_lon(NEW.location), max_lon = civicloop_lon(NEW.location),
            min_lat = civicloop_lat(NEW.location), max_lat = civicloop_lat(NEW.location)
        WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER issue_location_rtree_delete AFTER DELETE ON issue BEGIN
        DELETE FROM issue_location_rtree WHERE id = OLD.id;
    END""",
)


def _dialect() -> str:
    return op.get_context().dialect.name


revision: str = "742df9662c2f"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if _dialect() == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "agency",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name_th", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("jurisdiction", app.models.types.MultiPolygonType(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
        sa.UniqueConstraint("slug", name=op.f("uq_agency_slug")),
    )
    if _dialect() == "postgresql":
        op.create_index(
            "ix_agency_jurisdiction", "agency", ["jurisdiction"], postgresql_using="gist"
        )
    op.create_table(
        "category",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("group", sa.String(length=64), nullable=False),
        sa.Column("name_th", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description_th", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("acknowledge_target_hours", sa.Integer(), nullable=False),
        sa.Column("resolve_target_hours", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "acknowledge_target_hours > 0", name=op.f("ck_category_acknowledge_target_positive")
        ),
        sa.CheckConstraint(
            "resolve_target_hours >= acknowledge_target_hours",
            name=op.f("ck_category_resolve_after_acknowledge"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("code", name=op.f("uq_category_code")),
    )
    op.create_index(op.f("ix_category_group"), "category", ["group"], unique=False)
    op.create_table(
        "idempotency_record",
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("principal", "key", name="uq_idempotency_record_principal_key"),
    )
    op.create_index(
        op.f("ix_idempotency_record_created_at"), "idempotency_record", ["created_at"], unique=False
    )
    op.create_table(
        "agency_category",
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_agency_category_agency_id_agency"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_agency_category_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", "category_id", name=op.f("pk_agency_category")),
    )
    op.create_index(
        "ix_agency_category_category_id", "agency_category", ["category_id"], unique=False
    )
    op.create_table(
        "user_account",
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("device_id_hash", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "citizen",
                "agent",
                "manager",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "language",
            sa.Enum(
                "th", "en", name="language", native_enum=False, create_constraint=True, length=8
            ),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role NOT IN ('agent', 'manager') OR agency_id IS NOT NULL",
            name=op.f("ck_user_account_staff_has_agency"),
        ),
        sa.CheckConstraint(
            "email IS NOT NULL OR device_id_hash IS NOT NULL",
            name=op.f("ck_user_account_has_identity"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_user_account_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("device_id_hash", name=op.f("uq_user_account_device_id_hash")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    op.create_index(op.f("ix_user_account_agency_id"), "user_account", ["agency_id"], unique=False)
    op.create_table(
        "api_key",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("last_used_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_key_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_key_secret_hash")),
    )
    op.create_index(op.f("ix_api_key_user_id"), "api_key", ["user_id"], unique=False)
    op.create_table(
        "issue",
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column(
            "category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "reporter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", app.models.types.PointType(), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "in_progress",
                "resolved",
                "closed",
                name="issue_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "resolution",
            sa.Enum(
                "fixed",
                "duplicate",
                "not_actionable",
                "referred",
                "wont_fix",
                name="resolution",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="priority",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("acknowledged_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopened_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column(
            "acknowledge_due_at", app.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("resolve_due_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status IN ('resolved', 'closed')) OR resolution IS NULL",
            name=op.f("ck_issue_resolution_only_when_resolved"),
        ),
        sa.CheckConstraint("reopen_count >= 0", name=op.f("ck_issue_reopen_count_non_negative")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_issue_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_issue_category_id_category")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["user_account.id"], name=op.f("fk_issue_reporter_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue")),
        sa.UniqueConstraint("public_id", name=op.f("uq_issue_public_id")),
    )
    if _dialect() == "postgresql":
        op.create_index("ix_issue_location", "issue", ["location"], postgresql_using="gist")
    else:
        for statement in SQLITE_RTREE:
            op.execute(statement)
    op.create_index(op.f("ix_issue_agency_id"), "issue", ["agency_id"], unique=False)
    op.create_index(op.f("ix_issue_category_id"), "issue", ["category_id"], unique=False)
    op.create_index("ix_issue_created_at_id", "issue", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_issue_reporter_id"), "issue", ["reporter_id"], unique=False)
    op.create_index("ix_issue_status_created_at", "issue", ["status", "created_at"], unique=False)
    op.create_index("ix_issue_updated_at_id", "issue", ["updated_at", "id"], unique=False)
    op.create_table(
        "issue_candidate",
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_issue_candidate_agency_id_agency"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_issue_candidate_issue_id_issue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", "agency_id", name=op.f("pk_issue_candidate")),
    )
    op.create_index("ix_issue_candidate_agency_id", "issue_candidate", ["agency_id"], unique=False)
    op.create_table(
        "issue_event",
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "reported",
                "claimed",
                "started",
                "resolved",
                "closed",
                "reopened",
                "transferred",
                "edited",
                name="event_action",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "actor_agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "from_status",
            sa.Enum(
                "open",
                "acknowledged",
                "in_progress",
                "resolved",
                "closed",
                name="event_from_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "open",
                "acknowledged",
                "in_progress",
                "resolved",
                "closed",
                name="event_to_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "to_agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "resolution",
            sa.Enum(
                "fixed",
                "duplicate",
                "not_actionable",
                "referred",
                "wont_fix",
                name="event_resolution",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_agency_id"], ["agency.id"], name=op.f("fk_issue_event_actor_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_issue_event_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["from_agency_id"], ["agency.id"], name=op.f("fk_issue_event_from_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_issue_event_issue_id_issue"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_agency_id"], ["agency.id"], name=op.f("fk_issue_event_to_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_event")),
    )
    op.create_index("ix_issue_event_issue_id_id", "issue_event", ["issue_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_issue_event_issue_id_id", table_name="issue_event")
    op.drop_table("issue_event")
    op.drop_index("ix_issue_candidate_agency_id", table_name="issue_candidate")
    op.drop_table("issue_candidate")
    if _dialect() == "postgresql":
        op.drop_index("ix_issue_location", table_name="issue", postgresql_using="gist")
    else:
        op.execute("DROP TABLE issue_location_rtree")  # the triggers go with the issue table
    op.drop_index("ix_issue_updated_at_id", table_name="issue")
    op.drop_index("ix_issue_status_created_at", table_name="issue")
    op.drop_index(op.f("ix_issue_reporter_id"), table_name="issue")
    op.drop_index("ix_issue_created_at_id", table_name="issue")
    op.drop_index(op.f("ix_issue_category_id"), table_name="issue")
    op.drop_index(op.f("ix_issue_agency_id"), table_name="issue")
    op.drop_table("issue")
    op.drop_index(op.f("ix_api_key_user_id"), table_name="api_key")
    op.drop_table("api_key")
    op.drop_index(op.f("ix_user_account_agency_id"), table_name="user_account")
    op.drop_table("user_account")
    op.drop_index("ix_agency_category_category_id", table_name="agency_category")
    op.drop_table("agency_category")
    op.drop_index(op.f("ix_idempotency_record_created_at"), table_name="idempotency_record")
    op.drop_table("idempotency_record")
    op.drop_index(op.f("ix_category_group"), table_name="category")
    op.drop_table("category")
    if _dialect() == "postgresql":
        op.drop_index("ix_agency_jurisdiction", table_name="agency", postgresql_using="gist")
    op.drop_table("agency")
