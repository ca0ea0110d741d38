"""Every command that opens the store (serve's workers, worker, doctor, import, webhook add) gets
the configured database time limits through Database.from_settings."""
from sqlalchemy import text

from mltracker.service.db.engine import Database
from mltracker.service.settings import Settings


def test_postgresql_statement_timeout_comes_from_the_settings(pg_url):
    db = Database.from_settings(Settings(backend_store_uri=pg_url, db_statement_timeout=7.5))
    try:
        with db.read() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "7500ms"
    finally:
        db.dispose()


def test_zero_means_no_statement_timeout(pg_url):
    db = Database.from_settings(Settings(backend_store_uri=pg_url, db_statement_timeout=0))
    try:
        with db.read() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        db.dispose()
