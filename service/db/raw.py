"""The driver connection itself, for the hottest small writes (a training loop's one metric, param
or tag per call).

SQLAlchemy's execution of a statement (cache key, events, result set-up) costs ~50–150 µs of
CPU, several times what SQLite needs for a one-row insert. Here statements are still written as
Core statements on the schema's tables, compiled once per dialect, and then run on the pooled
DBAPI connection directly. The pool, the statement deadlines and the error types stay the same as
on the SQLAlchemy path: driver errors are re-raised as SQLAlchemy's (the API maps those), and a
connection that lost its server is invalidated.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy.exc import DBAPIError

from mltracker.service.db.deadlines import bounded_driver_connection, ping_waived_if_recently_used
from mltracker.service.db.engine import DEFAULT_CONNECT_TIMEOUT_S, Database


@dataclass(frozen=True)
class Compiled:
    sql: str
    order: tuple[str, ...] | None  # positional drivers (SQLite): parameter names in placeholder order

    def args(self, values: dict):
        return tuple(values[name] for name in self.order) if self.order is not None else values


_COMPILED: dict[tuple[int, str], Compiled] = {}


def compiled(db: Database, name: str, build, column_keys: tuple[str, ...] | None = None) -> Compiled:
    """The statement `build(dialect_name)` returns, compiled once per dialect and name.
    column_keys: for an INSERT without values, the columns it sets (parameters named after them)."""
    key = (id(db.engine.dialect), name)
    found = _COMPILED.get(key)
    if found is None:
        stmt = build(db.dialect)
        done = stmt.compile(dialect=db.engine.dialect, column_keys=list(column_keys) if column_keys else None)
        found = _COMPILED[key] = Compiled(str(done), tuple(done.positiontup) if done.positional else None)
    return found


class DriverCursor:
    """Runs compiled statements; driver errors come out as SQLAlchemy's DBAPIError subclasses."""

    def __init__(self, db: Database, connection, cursor):
        self._db, self._connection, self._cursor = db, connection, cursor

    def one(self, statement: Compiled, values: dict):
        return self.run(statement, values).fetchone()

    def run(self, statement: Compiled, values: dict):
        args = statement.args(values)
        try:
            self._cursor.execute(statement.sql, args)
        except self._db.engine.dialect.loaded_dbapi.Error as exc:
            raise self._translated(exc, statement.sql, args) from exc
        return self._cursor

    def _translated(self, exc, sql, args):
        dialect = self._db.engine.dialect
        disconnected = dialect.is_disconnect(exc, self._connection.dbapi_connection, self._cursor)
        if disconnected:
            self._connection.invalidate(exc)
        return DBAPIError.instance(sql, args, exc, dialect.loaded_dbapi.Error,
                                   connection_invalidated=disconnected, dialect=dialect)


@contextmanager
def write_transaction(db: Database) -> Iterator[DriverCursor]:
    """One transaction on a pooled driver connection, committed before the block's caller goes
    on; rolled back if the block raises. SQLite takes the write lock up front (BEGIN IMMEDIATE),
    as Database.write does."""
    connection = db.engine.raw_connection()
    try:
        with bounded_driver_connection(db, connection):
            dbapi = connection.dbapi_connection
            cursor = DriverCursor(db, connection, dbapi.cursor())
            try:
                if db.is_sqlite:
                    cursor.run(_BEGIN_IMMEDIATE, {})
                yield cursor
                try:
                    dbapi.commit() if not db.is_sqlite else cursor.run(_COMMIT, {})
                except db.engine.dialect.loaded_dbapi.Error as exc:
                    raise cursor._translated(exc, "COMMIT", ()) from exc
            except BaseException:
                _rollback(connection)
                raise
    finally:
        connection.close()  # back to the pool


def autocommitted_one(db: Database, statement: Compiled, values: dict):
    """PostgreSQL: one statement in autocommit, so one round trip for a whole write, durable when
    it answers; its first row. A connection returned to the pool a moment ago is used without the
    checkout ping (deadlines.ping_waived_if_recently_used); if it turns out dead at once (the
    server restarted, the connection was killed), the statement runs again on a pinged connection.
    So the statement must be idempotent: running it twice stores what running it once does."""
    started = time.monotonic()
    with ping_waived_if_recently_used() as waiver:
        try:
            with _autocommitted(db) as cursor:
                return cursor.one(statement, values)
        except DBAPIError as exc:
            quick = time.monotonic() - started < (db.connect_timeout or DEFAULT_CONNECT_TIMEOUT_S)
            if not (waiver.skipped and exc.connection_invalidated and quick):
                raise
    with _autocommitted(db) as cursor:
        return cursor.one(statement, values)


@contextmanager
def _autocommitted(db: Database) -> Iterator[DriverCursor]:
    connection = db.engine.raw_connection()
    try:
        with bounded_driver_connection(db, connection):
            dbapi = connection.dbapi_connection
            dbapi.autocommit = True
            try:
                with dbapi.cursor() as raw_cursor:
                    yield DriverCursor(db, connection, raw_cursor)
            finally:
                if connection.is_valid and not dbapi.closed:
                    dbapi.autocommit = False
    finally:
        connection.close()


def _rollback(connection) -> None:
    try:
        if connection.is_valid:
            connection.dbapi_connection.rollback()
    except Exception:  # noqa: BLE001 - the connection is broken; the pool replaces it
        connection.invalidate()


_BEGIN_IMMEDIATE = Compiled("BEGIN IMMEDIATE", ())
_COMMIT = Compiled("COMMIT", ())
