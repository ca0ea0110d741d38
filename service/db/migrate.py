"""Schema upgrades with Alembic, safe to run from several processes at once."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from mltracker.service.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant: serialises concurrent upgrades (replicas starting together) on PostgreSQL.
PG_UPGRADE_LOCK = 7_316_221


def _config(connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revisions() -> list[str]:
    return ScriptDirectory.from_config(_config(None)).get_heads()


def current_revision(db: Database) -> str | None:
    """The schema's revision: None before the first upgrade; several joined by "+" mid-branch."""
    with db.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return "+".join(sorted(heads)) or None


def upgrade(db: Database, revision: str = "heads") -> None:
    with db.unbounded() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_UPGRADE_LOCK})
            conn.commit()
        try:
            command.upgrade(_config(conn), revision)
            conn.commit()
        finally:
            if db.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_UPGRADE_LOCK})
                conn.commit()
