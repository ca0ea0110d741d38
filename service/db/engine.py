"""Engine creation and transaction helpers.

SQLite runs in WAL mode with a busy timeout, and write transactions start with BEGIN IMMEDIATE:
a deferred transaction that later needs the write lock fails with "database is locked" at once
(SQLite cannot wait without risking deadlock), so writers take the lock up front and queue.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url

SQLITE_BUSY_TIMEOUT_S = 60
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000  # ~40 MB of WAL


def normalize_uri(uri: str) -> str:
    """Accept plain postgresql:// URLs and point them at psycopg 3, the driver we ship."""
    url = make_url(uri)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def make_engine(uri: str) -> Engine:
    uri = normalize_uri(uri)
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(uri, url.database)
    return create_engine(uri, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_recycle=1800)


def _sqlite_engine(uri: str, path: str | None) -> Engine:
    if path and path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    engine = create_engine(
        uri,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_size=16,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        # Checkpoint less often: a checkpoint rewrites every page the WAL touched and fsyncs, so
        # rarer, bigger checkpoints coalesce the pages that consecutive log-batches rewrite.
        cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cur.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_AUTOCHECKPOINT_PAGES * 4096}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        immediate = conn.get_execution_options().get("sqlite_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The engine plus the two ways code touches it: a read, or one atomic write transaction."""

    def __init__(self, uri: str):
        self.uri = normalize_uri(uri)
        self.engine = make_engine(self.uri)
        self.dialect = self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(sqlite_write=True)
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()
