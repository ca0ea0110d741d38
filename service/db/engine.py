"""Engine creation and transaction helpers.

SQLite runs in WAL mode with a busy timeout, and write transactions start with BEGIN IMMEDIATE:
a deferred transaction that later needs the write lock fails with "database is locked" at once
(SQLite cannot wait without risking deadlock), so writers take the lock up front and queue.

Every statement has a time limit and connecting to PostgreSQL has one too (see deadlines.py).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url

from mltracker.service.db.deadlines import UNBOUNDED, PostgresWatchdog, bound_sqlite_statements
# Registers the dumpers of encoded arrays with psycopg's global adapters, which a connection copies
# when it opens: imported after a connection opened, that connection would send them as bytea.
from mltracker.service.db import pg_arrays  # noqa: F401,E402

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_STATEMENT_TIMEOUT_S = 30.0
SQLITE_BUSY_TIMEOUT_S = 60
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000  # ~40 MB of WAL


def normalize_uri(uri: str) -> str:
    """Accept plain postgresql:// URLs and point them at psycopg 3, the driver we ship."""
    url = make_url(uri)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def make_engine(
    uri: str,
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT_S,
    statement_timeout: float | None = DEFAULT_STATEMENT_TIMEOUT_S,
) -> Engine:
    """Timeouts in seconds; None or 0 for none."""
    uri = normalize_uri(uri)
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        engine = _sqlite_engine(uri, url.database)
        bound_sqlite_statements(engine, statement_timeout or None)
        return engine
    return _postgres_engine(uri, connect_timeout or None, statement_timeout or None)


def _postgres_engine(uri: str, connect_timeout: float | None, statement_timeout: float | None) -> Engine:
    connect_args = {}
    if connect_timeout:
        connect_args["connect_timeout"] = max(1, round(connect_timeout))  # libpq takes whole seconds
    if statement_timeout:
        options = make_url(uri).query.get("options", "")
        connect_args["options"] = f"{options} -c statement_timeout={int(statement_timeout * 1000)}".strip()
    engine = create_engine(
        uri, pool_size=10, max_overflow=20, pool_recycle=1800,
        pool_timeout=connect_timeout or 30, connect_args=connect_args,
    )
    watchdog = PostgresWatchdog(statement_timeout)
    watchdog.attach(engine)
    watchdog.ping_on_checkout(engine, connect_timeout or DEFAULT_CONNECT_TIMEOUT_S)
    return engine


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
        # FULL: a commit is on disk before the answer (WAL's NORMAL could lose the last
        # acknowledged writes on a power cut).
        cur.execute("PRAGMA synchronous=FULL")
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

    def __init__(
        self,
        uri: str,
        *,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT_S,
        statement_timeout: float | None = DEFAULT_STATEMENT_TIMEOUT_S,
    ):
        self.uri = normalize_uri(uri)
        self.statement_timeout = statement_timeout or None
        self.connect_timeout = connect_timeout or None
        self.engine = make_engine(self.uri, connect_timeout, statement_timeout)
        self.dialect = self.engine.dialect.name

    @classmethod
    def from_settings(cls, settings) -> "Database":
        """The configured store with the configured time limits (MLTRACKER_DB_CONNECT/STATEMENT_TIMEOUT)."""
        return cls(settings.backend_store_uri, connect_timeout=settings.db_connect_timeout,
                   statement_timeout=settings.db_statement_timeout)

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

    @contextmanager
    def unbounded(self) -> Iterator[Connection]:
        """A connection whose statements have no time limit (schema migrations)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{UNBOUNDED: True})
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SET statement_timeout = 0")
                conn.commit()
            try:
                yield conn
            finally:
                if self.dialect == "postgresql" and not conn.invalidated:
                    conn.rollback()
                    conn.exec_driver_sql("RESET statement_timeout")
                    conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()
