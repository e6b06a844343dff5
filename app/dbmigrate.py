"""Running Alembic from code: `civicloop migrate`, `serve`'s first start, /readyz and the tests."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


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
