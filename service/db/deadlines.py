"""Every statement gets a deadline, and stops early when the client that asked has gone.

SQLite runs in our process: a progress handler, called every few thousand virtual-machine steps,
interrupts the statement once its deadline has passed or its client has disconnected.

PostgreSQL enforces `statement_timeout` itself (set at connect). Two things it cannot see are
watched by one thread per engine: a client that disconnected (the query is cancelled through the
protocol's cancel request) and a server that stopped answering at all (a hung or unreachable
server never enforces its own timeout; the connection's socket is shut down, so the waiting
request fails instead of hanging until TCP gives up).

Which client a statement works for is a per-thread callable set by the web layer (`client_gone`),
so this module knows nothing about HTTP.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_PROGRESS_STEPS = 10_000  # VM steps between checks: tens of microseconds of work
CLIENT_CHECK_INTERVAL_S = 0.25
# Beyond the statement timeout, how long a PostgreSQL connection may stay silent before it is cut.
HUNG_SERVER_GRACE_S = 5.0
UNBOUNDED = "mltracker_unbounded"  # execution option: no deadline (schema migrations)
# A pooled PostgreSQL connection returned this recently may skip its checkout ping where the caller
# allows it (ping_waived_if_recently_used): a training loop's next call comes within milliseconds.
RECENTLY_USED_S = 1.0
_RETURNED_AT = "mltracker_returned_at"

_current = threading.local()


@contextmanager
def client_gone(check: Callable[[], bool] | None) -> Iterator[None]:
    """Statements run by this thread inside the block stop when `check()` says the client left."""
    previous = getattr(_current, "check", None)
    _current.check = check
    try:
        yield
    finally:
        _current.check = previous


def set_client_check(check: Callable[[], bool] | None) -> None:
    """Like client_gone, for callers that cannot wrap a block (request hooks)."""
    _current.check = check


def _client_check() -> Callable[[], bool] | None:
    return getattr(_current, "check", None)


class _Budget:
    """One DBAPI connection's running statement: its deadline and whose client to watch."""

    __slots__ = ("deadline", "check", "next_check")

    def __init__(self):
        self.deadline: float | None = None
        self.check: Callable[[], bool] | None = None
        self.next_check = 0.0

    def start(self, timeout: float | None, check) -> None:
        now = time.monotonic()
        self.deadline = now + timeout if timeout else None
        self.check = check
        self.next_check = now + CLIENT_CHECK_INTERVAL_S

    def stop(self) -> None:
        self.deadline = None
        self.check = None

    def exceeded(self) -> bool:
        if self.deadline is None and self.check is None:
            return False
        now = time.monotonic()
        if self.deadline is not None and now > self.deadline:
            return True
        if self.check is not None and now >= self.next_check:
            self.next_check = now + CLIENT_CHECK_INTERVAL_S
            return _safely(self.check)
        return False


def _safely(check) -> bool:
    try:
        return bool(check())
    except Exception:  # noqa: BLE001 - a failing check must never fail the statement
        return False


def bound_sqlite_statements(engine: Engine, timeout: float | None) -> None:
    @event.listens_for(engine, "connect")
    def _install(dbapi_conn, record):
        budget = record.info["mltracker_budget"] = _Budget()
        dbapi_conn.set_progress_handler(budget.exceeded, SQLITE_PROGRESS_STEPS)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, _cursor, _statement, _params, _context, _many):
        budget = conn.connection.info.get("mltracker_budget")
        if budget is not None:
            unbounded = conn.get_execution_options().get(UNBOUNDED, False)
            budget.start(None if unbounded else timeout, _client_check())

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn, _cursor, _statement, _params, _context, _many):
        _stop_budget(conn)

    @event.listens_for(engine, "handle_error")
    def _stop_on_error(context):
        if context.connection is not None and not context.connection.invalidated:
            _stop_budget(context.connection)


@contextmanager
def bounded_driver_connection(db, connection) -> Iterator[None]:
    """The same bounds for statements run on a pooled driver connection directly (db/raw.py):
    the statement time limit and the client check of the current thread."""
    timeout, check = db.statement_timeout, _client_check()
    budget = connection.info.get("mltracker_budget")
    if budget is not None:  # SQLite
        budget.start(timeout, check)
        try:
            yield
        finally:
            budget.stop()
        return
    if db.dialect != "postgresql" or (timeout is None and check is None):
        yield
        return
    dbapi = connection.dbapi_connection
    hard = time.monotonic() + timeout + HUNG_SERVER_GRACE_S if timeout else None
    _WATCH_THREAD.add(_Watch(dbapi, hard, check))
    try:
        yield
    finally:
        _WATCH_THREAD.remove(dbapi)


def _stop_budget(conn) -> None:
    budget = conn.connection.info.get("mltracker_budget")
    if budget is not None:
        budget.stop()


class _Watch:
    __slots__ = ("dbapi_conn", "hard_deadline", "check", "next_check", "cancelled")

    def __init__(self, dbapi_conn, hard_deadline, check):
        self.dbapi_conn = dbapi_conn
        self.hard_deadline = hard_deadline
        self.check = check
        self.next_check = time.monotonic() + CLIENT_CHECK_INTERVAL_S
        self.cancelled = False


class _WatchThread:
    """The one thread per process that watches running PostgreSQL statements; it sleeps while
    nothing runs."""

    def __init__(self):
        self.watches: dict[int, _Watch] = {}
        self.lock = threading.Condition()
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()

    def add(self, watch: _Watch) -> None:
        with self.lock:
            self.watches[id(watch.dbapi_conn)] = watch
            if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
                self.pid = os.getpid()  # a forked worker needs its own thread
                self.thread = threading.Thread(target=self._run, name="mltracker-db-watchdog", daemon=True)
                self.thread.start()
            self.lock.notify()

    def remove(self, dbapi_conn) -> None:
        with self.lock:
            self.watches.pop(id(dbapi_conn), None)

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self.watches:
                    self.lock.wait()
            time.sleep(CLIENT_CHECK_INTERVAL_S / 2)
            with self.lock:
                watches = list(self.watches.values())
            now = time.monotonic()
            for watch in watches:
                if watch.hard_deadline is not None and now > watch.hard_deadline:
                    with self.lock:
                        current = self.watches.get(id(watch.dbapi_conn)) is watch
                        if current:
                            del self.watches[id(watch.dbapi_conn)]
                    if current:
                        _cut(watch.dbapi_conn)
                elif watch.check is not None and not watch.cancelled and now >= watch.next_check:
                    watch.next_check = now + CLIENT_CHECK_INTERVAL_S
                    if _safely(watch.check):
                        watch.cancelled = True
                        _cancel(watch.dbapi_conn)


_WATCH_THREAD = _WatchThread()


class PostgresWatchdog:
    """Arms a watch for each PostgreSQL statement of an engine (see the module docstring)."""

    def __init__(self, timeout: float | None):
        self.timeout = timeout

    def attach(self, engine: Engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _start(conn, _cursor, _statement, _params, _context, _many):
            unbounded = conn.get_execution_options().get(UNBOUNDED, False)
            self.start(conn.connection.dbapi_connection, None if unbounded else self.timeout, _client_check())

        @event.listens_for(engine, "after_cursor_execute")
        def _stop(conn, _cursor, _statement, _params, _context, _many):
            self.stop(conn.connection.dbapi_connection)

        @event.listens_for(engine, "handle_error")
        def _stop_on_error(context):
            try:
                dbapi = context.connection.connection.dbapi_connection
            except Exception:  # noqa: BLE001 - invalidated: the watch is replaced or harmless
                return
            if dbapi is not None:
                self.stop(dbapi)

    def ping_on_checkout(self, engine: Engine, limit: float) -> None:
        """pool_pre_ping, but bounded: a connection to a server that stopped answering is cut after
        `limit` seconds and replaced (the pool retries with a new connection, which has a connect
        timeout). The ping runs in autocommit: one round trip (in a transaction, psycopg would send
        BEGIN, SELECT 1 and ROLLBACK, three). Inside `ping_waived_if_recently_used`, a connection
        returned to the pool less than RECENTLY_USED_S ago is not pinged."""
        from sqlalchemy.exc import DisconnectionError

        @event.listens_for(engine, "checkin")
        def _returned(dbapi_conn, record):
            if dbapi_conn is not None:
                record.info[_RETURNED_AT] = time.monotonic()

        @event.listens_for(engine, "checkout")
        def _ping(dbapi_conn, record, _proxy):
            waiver = getattr(_current, "ping_waiver", None)
            if waiver is not None:
                returned = record.info.get(_RETURNED_AT)
                waiver.skipped = returned is not None and time.monotonic() - returned < RECENTLY_USED_S
                if waiver.skipped:
                    return
            self.start(dbapi_conn, limit, None, grace=0.0)
            try:
                _ping_once(dbapi_conn)
            except Exception as exc:  # noqa: BLE001 - any failure means "replace this connection"
                raise DisconnectionError(str(exc)) from exc
            finally:
                self.stop(dbapi_conn)

    def start(self, dbapi_conn, timeout: float | None, check, grace: float = HUNG_SERVER_GRACE_S) -> None:
        if timeout is None and check is None:
            return
        hard = time.monotonic() + timeout + grace if timeout else None
        _WATCH_THREAD.add(_Watch(dbapi_conn, hard, check))

    def stop(self, dbapi_conn) -> None:
        _WATCH_THREAD.remove(dbapi_conn)


def _ping_once(dbapi_conn) -> None:
    from psycopg.pq import TransactionStatus

    idle = dbapi_conn.info.transaction_status == TransactionStatus.IDLE
    autocommit = dbapi_conn.autocommit
    if idle and not autocommit:
        dbapi_conn.autocommit = True  # a client-side switch: no round trip
    try:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        if idle and not autocommit:
            dbapi_conn.autocommit = False
    if not idle:
        dbapi_conn.rollback()


class PingWaiver:
    """Set by a checkout inside ping_waived_if_recently_used: whether the ping was skipped."""

    __slots__ = ("skipped",)

    def __init__(self):
        self.skipped = False


@contextmanager
def ping_waived_if_recently_used() -> Iterator[PingWaiver]:
    """Pool checkouts in this block (this thread) skip the ping when the connection was returned
    less than RECENTLY_USED_S ago. For work that, finding its connection dead, runs again on a
    pinged one (db/raw.py's autocommitted statement); a server that hangs is then found by the
    statement's own deadline rather than the ping's, as when it hangs just after a ping."""
    waiver = PingWaiver()
    previous = getattr(_current, "ping_waiver", None)
    _current.ping_waiver = waiver
    try:
        yield waiver
    finally:
        _current.ping_waiver = previous


def _cancel(dbapi_conn) -> None:
    try:
        dbapi_conn.cancel()
    except Exception:  # noqa: BLE001 - the statement may have just finished
        pass


def _cut(dbapi_conn) -> None:
    """Shut the connection's socket down: the thread blocked on it wakes with an error."""
    try:
        fd = dbapi_conn.pgconn.socket
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception:  # noqa: BLE001 - already closed
        pass
