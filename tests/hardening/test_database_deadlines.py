"""Every statement is bounded: by a time limit, by its client leaving, and by a server that stops
answering; connecting is bounded too. On SQLite and on PostgreSQL."""
from __future__ import annotations

import socket
import threading
from contextlib import nullcontext

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from mltracker.service.api.errors import install_database_error_handler, install_error_handlers
from mltracker.service.db.deadlines import client_gone
from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import upgrade
from tests.conftest import fresh_pg_database
from tests.hardening.tcp_proxy import FreezableProxy

# Runs until stopped: SQLite counts forever, PostgreSQL sleeps a minute.
ENDLESS = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(60)",
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def url(request, tmp_path_factory):
    if request.param == "sqlite":
        with nullcontext(f"sqlite:///{tmp_path_factory.mktemp('deadlines')}/d.db") as url:
            yield url
    else:
        with fresh_pg_database() as url:
            yield url


def _endless(db: Database) -> str:
    return ENDLESS[db.dialect]


@pytest.mark.timeout(30)
def test_a_statement_past_its_time_limit_is_stopped_and_answers_504(url):
    db = Database(url, statement_timeout=0.5)
    app = Flask(__name__)
    install_error_handlers(app)
    install_database_error_handler(app)

    @app.get("/slow")
    def slow():
        with db.read() as conn:
            conn.execute(text(_endless(db))).all()
        return "unreachable"

    try:
        response = app.test_client().get("/slow")
        assert response.status_code == 504
        assert response.get_json()["error_code"] == "DEADLINE_EXCEEDED"
        with db.read() as conn:  # the connection is usable afterwards
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


@pytest.mark.timeout(30)
def test_a_statement_stops_when_its_client_has_gone(url):
    db = Database(url, statement_timeout=120)
    gone = threading.Event()
    outcome = []

    def request_thread():
        with client_gone(gone.is_set):
            try:
                with db.read() as conn:
                    conn.execute(text(_endless(db))).all()
                outcome.append("finished")
            except OperationalError as exc:
                outcome.append(exc)

    worker = threading.Thread(target=request_thread)
    try:
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive()  # still running while the client is there
        gone.set()
        worker.join(timeout=15)
        assert not worker.is_alive(), "the statement kept running for a client that left"
        assert isinstance(outcome[0], OperationalError)
    finally:
        gone.set()
        db.dispose()


def test_schema_migrations_have_no_time_limit(url):
    """Upgrades run unbounded and leave the limit in place afterwards. On SQLite a 1 ms limit would
    stop any migration; on PostgreSQL the upgrade waits longer than the limit for the lock another
    replica's upgrade holds."""
    is_sqlite = url.startswith("sqlite")
    db = Database(url, statement_timeout=0.001 if is_sqlite else 0.5)
    holder = None if is_sqlite else threading.Thread(target=_hold_upgrade_lock, args=(url, 2.0))
    try:
        if holder:
            holder.start()
            holder_started.wait(10)
        upgrade(db)
        with pytest.raises(OperationalError):
            with db.read() as conn:
                conn.execute(text(_endless(db))).all()
    finally:
        if holder:
            holder.join()
        db.dispose()


holder_started = threading.Event()


def _hold_upgrade_lock(url: str, seconds: float) -> None:
    from mltracker.service.db.migrate import PG_UPGRADE_LOCK

    other = Database(url, statement_timeout=None)
    try:
        with other.read() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_UPGRADE_LOCK})
            holder_started.set()
            conn.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_UPGRADE_LOCK})
    finally:
        other.dispose()


@pytest.mark.timeout(60)
def test_a_hung_postgresql_fails_requests_instead_of_hanging_them():
    with fresh_pg_database() as pg_url:
        parsed = make_url(pg_url)
        with FreezableProxy((parsed.host, parsed.port or 5432)) as proxy:
            db = Database(parsed.set(port=proxy.port).render_as_string(hide_password=False),
                          connect_timeout=1, statement_timeout=1)
            try:
                with db.read() as conn:
                    assert conn.execute(text("SELECT 1")).scalar_one() == 1
                proxy.frozen.set()
                for _ in range(2):  # a pooled connection, then (after it was dropped) a new one
                    errors = []
                    worker = threading.Thread(target=_select_one, args=(db, errors))
                    worker.start()
                    worker.join(timeout=20)
                    assert not worker.is_alive(), "a request hung on a hung database"
                    assert errors and isinstance(errors[0], OperationalError), errors
            finally:
                db.dispose()


def _select_one(db: Database, errors: list) -> None:
    try:
        with db.read() as conn:
            conn.execute(text("SELECT 1")).all()
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        errors.append(exc)


def test_a_client_that_hung_up_is_seen_and_one_still_sending_is_not():
    from mltracker.service.api.client_watch import peer_closed

    server, client = socket.socketpair()
    try:
        assert not peer_closed(server)  # connected, nothing unread
        client.sendall(b"more body")
        assert not peer_closed(server)  # unread bytes: still there
        server.recv(100)
        client.close()
        assert peer_closed(server)
    finally:
        server.close()
