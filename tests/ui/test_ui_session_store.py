"""The server-side session store on SQLite and PostgreSQL: tokens stored sealed, sessions ending by
id, by user and by age, refreshed tokens stored once."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from mltracker.service.db.sessions_schema import ui_sessions
from mltracker.service.gitlab.oauth import OAuthTokens
from mltracker.service.ui import sessions
from tests.conftest import migrated_database

USER = {"id": 7, "username": "dora", "name": "Dora"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    with migrated_database(request.param, tmp_path) as database:
        yield database


def _tokens(access: str = "access-1", refresh: str = "refresh-1") -> OAuthTokens:
    return OAuthTokens(access, refresh, int(time.time()) + 7200)


def test_tokens_are_stored_sealed_and_only_the_id_hash_is_kept(db):
    box = sessions.TokenBox("secret-key")
    with db.write() as conn:
        sid = sessions.create(conn, box, USER, _tokens())
    with db.read() as conn:
        row = conn.execute(select(ui_sessions)).one()
        found = sessions.load(conn, box, sid)
    assert "access-1" not in row.access_token and "refresh-1" not in row.refresh_token
    assert sid not in row.id
    assert (found.access_token, found.refresh_token, found.user["username"]) == ("access-1", "refresh-1", "dora")
    with db.read() as conn:
        assert sessions.load(conn, sessions.TokenBox("another-key"), sid) is None  # key changed: ended
        assert sessions.load(conn, box, sid + "x") is None


def test_sessions_expire_when_idle_or_old(db):
    box = sessions.TokenBox("k")
    with db.write() as conn:
        idle, old, fresh = (sessions.create(conn, box, USER, _tokens()) for _ in range(3))
        now = int(time.time())
        conn.execute(update(ui_sessions).where(ui_sessions.c.id == sessions.hash_of(idle))
                     .values(last_seen=now - sessions.IDLE_TIMEOUT_S - 1))
        conn.execute(update(ui_sessions).where(ui_sessions.c.id == sessions.hash_of(old))
                     .values(created=now - sessions.MAX_AGE_S - 1))
    with db.read() as conn:
        assert sessions.load(conn, box, idle) is None and sessions.load(conn, box, old) is None
        assert sessions.load(conn, box, fresh) is not None
    with db.write() as conn:
        assert sessions.sweep_expired(conn) == 2


def test_refreshed_tokens_are_stored_once_and_sign_out_ends_every_session_of_the_user(db):
    box = sessions.TokenBox("k")
    with db.write() as conn:
        first = sessions.create(conn, box, USER, _tokens("a1", "r1"))
        second = sessions.create(conn, box, USER, _tokens("a2", "r2"))
        other = sessions.create(conn, box, {"id": 8, "username": "rita"}, _tokens("b1", "s1"))
    with db.read() as conn:
        stale = sessions.load(conn, box, first)
    renewed = OAuthTokens("a1-new", "r1-new", stale.token_expires + 100)
    with db.write() as conn:
        assert sessions.replace_tokens(conn, box, stale, renewed)
        assert not sessions.replace_tokens(conn, box, stale, OAuthTokens("late", "late", 1))  # lost the race
    with db.read() as conn:
        assert sessions.load(conn, box, first).access_token == "a1-new"
    with db.write() as conn:
        revoked = sessions.end_all_of_user(conn, box, 7)
    assert sorted(revoked) == ["a1-new", "a2"]
    with db.read() as conn:
        assert sessions.load(conn, box, first) is None and sessions.load(conn, box, second) is None
        assert sessions.load(conn, box, other) is not None
