"""Contractor hand-overs: the signed links an agency gives a contractor, and the four events
that audit them on the issue's timeline.

Revision ID: c7f3a9e1d2b6
Revises: a15e29655fc4
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.types
from migrations.checks import allow_event_actions

revision: str = "c7f3a9e1d2b6"
down_revision: str | None = "a15e29655fc4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "reported",
    "claimed",
    "started",
    "resolved",
    "closed",
    "reopened",
    "transferred",
    "edited",
    "photo_added",
    "photo_hidden",
    "photo_restored",
    "supported",
    "merged",
    "merged_in",
    "commented",
    "noted",
    "comment_hidden",
    "comment_restored",
    "hidden",
    "unhidden",
    "priority_changed",
    "assigned",
    "rerouted",
)
NEW = ("handed_over", "handover_revoked", "work_done", "work_returned")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    allow_event_actions(BEFORE + NEW)
    op.create_table(
        "contractor_link",
        sa.Column("id", ID, nullable=False),
        sa.Column("issue_id", ID, nullable=False),
        sa.Column("agency_id", ID, nullable=False),
        sa.Column("issued_by_id", ID, nullable=False),
        sa.Column("contractor", sa.String(length=200), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", ID, nullable=True),
        sa.Column("done_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.Column("returned_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_contractor_link_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_contractor_link_issue_id_issue"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["user_account.id"],
            name=op.f("fk_contractor_link_issued_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["user_account.id"],
            name=op.f("fk_contractor_link_revoked_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractor_link")),
    )
    op.create_index(
        op.f("ix_contractor_link_issue_id"), "contractor_link", ["issue_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_contractor_link_issue_id"), table_name="contractor_link")
    op.drop_table("contractor_link")
    op.execute(
        sa.text("DELETE FROM issue_event WHERE action IN :new").bindparams(
            sa.bindparam("new", NEW, expanding=True)
        )
    )
    allow_event_actions(BEFORE)
