"""`mltracker db upgrade` builds exactly the schema the code declares, on SQLite and PostgreSQL."""
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import current_revision, head_revisions
from mltracker.service.db.tables import metadata
from tests.conftest import fresh_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh.db"
    else:
        with fresh_pg_database() as url:
            yield url


def _upgrade(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mltracker.service.cli", "db", "upgrade", "--backend-store-uri", url],
        capture_output=True, text=True, timeout=120,
    )


def test_db_upgrade_reaches_every_head_and_matches_the_declared_schema(empty_database_url):
    result = _upgrade(empty_database_url)
    assert result.returncode == 0, result.stderr
    db = Database(empty_database_url)
    try:
        heads = list(head_revisions())
        assert len(heads) == 1, f"one line of history, not {heads}"
        assert current_revision(db) == heads[0]
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
        assert differences == []
    finally:
        db.dispose()


def test_db_upgrade_twice_is_a_no_op(empty_database_url):
    assert _upgrade(empty_database_url).returncode == 0
    second = _upgrade(empty_database_url)
    assert second.returncode == 0, second.stderr
    assert "Running upgrade" not in second.stderr


def test_current_revision_is_none_before_upgrade(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/empty.db")
    try:
        assert current_revision(db) is None
    finally:
        db.dispose()


def test_postgresql_gets_key_value_statistics_for_params_and_tags():
    """Search plans depend on them (see migration 0007)."""
    from sqlalchemy import text

    from mltracker.service.db.migrate import upgrade

    with fresh_pg_database() as url:
        db = Database(url)
        try:
            upgrade(db)
            query = text("SELECT stxname, stxkind FROM pg_statistic_ext ORDER BY stxname")
            with db.engine.connect() as conn:
                stats = [(name, sorted(kinds)) for name, kinds in conn.execute(query)]
            assert stats == [("params_key_value", ["f", "m"]), ("tags_key_value", ["f", "m"])]  # dependencies, mcv
        finally:
            db.dispose()
