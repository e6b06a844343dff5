"""Map counts per H3 cell: each issue's cell, and per-cell counts a trigger keeps exact.

Revision ID: 3f7b9c1d2e40
Revises: 3f7a9c1d5e20
Create Date: 2026-12-08 02:40:00
"""

import struct
from collections.abc import Sequence

import h3
import sqlalchemy as sa
from alembic import op

revision: str = "3f7b9c1d2e40"
down_revision: str | None = "3f7a9c1d5e20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app.models.map_cell (a migration keeps its own copy: the app may change, this may not).
RESOLUTIONS = (5, 7, 9)
FINEST = 9
KEY = "resolution, cell, day, category_id, status, agency_id"
WATCHED = "h3_cell, created_at, category_id, status, agency_id, hidden_at, is_private, review"


def _masks(resolution: int) -> tuple[int, int]:
    return ~(15 << 52), (resolution << 52) | ((1 << (3 * (15 - resolution))) - 1)


def _statements(row: str, day: str) -> tuple[list[str], list[str]]:
    """(count the row in, count the row out): one statement per resolution and step."""
    visible = (
        f"{row}.h3_cell IS NOT NULL AND {row}.hidden_at IS NULL AND {row}.is_private = false "
        f"AND ({row}.review IS NULL OR {row}.review = 'approved')"
    )
    count_in, count_out = [], []
    for r in RESOLUTIONS:
        clear, fill = _masks(r)
        values = (
            f"{r}, (({row}.h3_cell & ({clear})) | {fill}), {day}, {row}.category_id, "
            f"{row}.status, COALESCE({row}.agency_id, 0)"
        )
        key = (
            f"resolution = {r} AND cell = (({row}.h3_cell & ({clear})) | {fill}) AND day = {day} "
            f"AND category_id = {row}.category_id AND status = {row}.status "
            f"AND agency_id = COALESCE({row}.agency_id, 0)"
        )
        count_in.append(
            f"INSERT INTO issue_cell_count ({KEY}, n) SELECT {values}, 1 WHERE {visible} "
            f"ON CONFLICT ({KEY}) DO UPDATE SET n = issue_cell_count.n + 1;"
        )
        count_out.append(f"UPDATE issue_cell_count SET n = n - 1 WHERE {visible} AND {key};")  # noqa: S608 (constants only)
        count_out.append(f"DELETE FROM issue_cell_count WHERE n = 0 AND {key};")  # noqa: S608
    return count_in, count_out


def _postgresql_trigger() -> list[str]:
    day = "({row}.created_at AT TIME ZONE 'UTC')::date"
    count_in, _ = _statements("NEW", day.format(row="NEW"))
    _, count_out = _statements("OLD", day.format(row="OLD"))
    body = "\n".join(
        [
            "IF TG_OP <> 'INSERT' THEN",
            *count_out,
            "END IF;",
            "IF TG_OP <> 'DELETE' THEN",
            *count_in,
            "END IF;",
            "RETURN NULL;",
        ]
    )
    return [
        "CREATE FUNCTION issue_cell_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nEND $$",
        f"CREATE TRIGGER issue_cell_count AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} "
        "ON issue FOR EACH ROW EXECUTE FUNCTION issue_cell_count_apply()",
    ]


def _sqlite_triggers() -> list[str]:
    # SQLite stores UTC datetimes as 'YYYY-MM-DD HH:MM:SS[.ffffff]' and dates as 'YYYY-MM-DD'.
    count_in, _ = _statements("NEW", "substr(NEW.created_at, 1, 10)")
    _, count_out = _statements("OLD", "substr(OLD.created_at, 1, 10)")
    return [
        "CREATE TRIGGER issue_cell_count_insert AFTER INSERT ON issue BEGIN\n"
        + "\n".join(count_in)
        + "\nEND",
        "CREATE TRIGGER issue_cell_count_delete AFTER DELETE ON issue BEGIN\n"
        + "\n".join(count_out)
        + "\nEND",
        f"CREATE TRIGGER issue_cell_count_update AFTER UPDATE OF {WATCHED} ON issue BEGIN\n"
        + "\n".join(count_out + count_in)
        + "\nEND",
    ]


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    op.add_column("issue", sa.Column("h3_cell", sa.BigInteger(), nullable=True))
    op.create_table(
        "issue_cell_count",
        sa.Column("resolution", sa.SmallInteger(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "resolution",
            "cell",
            "day",
            "category_id",
            "status",
            "agency_id",
            name=op.f("pk_issue_cell_count"),
        ),
    )
    for statement in _postgresql_trigger() if postgresql else _sqlite_triggers():
        op.execute(statement)
    # Place the issues already stored (the trigger counts each as its cell is set).
    bind = op.get_bind()
    if postgresql:
        rows = bind.execute(sa.text("SELECT id, ST_X(location), ST_Y(location) FROM issue"))
        points = [(i, lon, lat) for i, lon, lat in rows]
    else:
        rows = bind.execute(sa.text("SELECT id, location FROM issue"))
        points = [(i, *struct.unpack("<BIdd", bytes(wkb))[2:]) for i, wkb in rows]
    if points:
        bind.execute(
            sa.text("UPDATE issue SET h3_cell = :cell WHERE id = :id"),
            [
                {"id": i, "cell": h3.str_to_int(h3.latlng_to_cell(lat, lon, FINEST))}
                for i, lon, lat in points
            ],
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER issue_cell_count ON issue")
        op.execute("DROP FUNCTION issue_cell_count_apply()")
        op.drop_table("issue_cell_count")
        op.drop_column("issue", "h3_cell")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER issue_cell_count_{name}")
        op.drop_table("issue_cell_count")
        # Not a batch: rebuilding the table would drop its R*Tree triggers.
        op.execute("ALTER TABLE issue DROP COLUMN h3_cell")
