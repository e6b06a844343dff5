"""Running Alembic from code: `civicloop migrate`, `serve`'s first start, /readyz and the tests."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

# Tables the database owns or our spatial code maintains, never the ORM: PostGIS's catalogue,
# and SQLite's R*Tree virtual table with its shadow tables.
UNMANAGED_TABLE_PREFIXES = ("spatial_ref_sys", "issue_location_rtree")

IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]


def include_object_for(dialect: str) -> IncludeObject:
    """Alembic's filter of what the ORM manages on this dialect (env.py and the drift test)."""

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if type_ == "table" and name and name.startswith(UNMANAGED_TABLE_PREFIXES):
            return False
        if type_ == "index" and not reflected:
            # Indexes declared with .ddl_if(dialect=...) exist only on that dialect.
            ddl_if = getattr(obj, "_ddl_if", None)
            if ddl_if is not None and ddl_if.dialect is not None and ddl_if.dialect != dialect:
                return False
        return True

    return include_object


def comparison_options(dialect: str) -> dict[str, Any]:
    """How migrations compare the database with the models: env.py and the drift test agree."""
    return {
        "include_object": include_object_for(dialect),
        "render_as_batch": dialect == "sqlite",
        "compare_type": True,
    }


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(str(files("migrations")))))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def pending_migrations(engine: Engine) -> list[str]:
    """Revisions between the database's current one and head (empty when up to date)."""
    script = ScriptDirectory.from_config(alembic_config())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    pending = []
    for revision in script.walk_revisions():
        if revision.revision in current:
            break
        pending.append(revision.revision)
    return pending
