"""SQLite connections commit durably: WAL with synchronous=FULL, so an acknowledged write survives a
power cut, not only a crash of the server."""
from __future__ import annotations

from mltracker.service.db.engine import Database

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_every_connection_is_wal_and_fully_synchronous(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/durable.db")
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == FULL
    finally:
        db.dispose()
