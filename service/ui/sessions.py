"""Server-side sign-in sessions of the web UI.

The browser's cookie (Flask's signed session) holds a random session id and the CSRF token, never
a GitLab token. The row in `ui_sessions` holds the user and the GitLab OAuth tokens, encrypted with
a key derived from the app's secret key. Deleting the row ends the session on every replica at
once; a copied cookie is worth nothing afterwards.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Connection, delete, insert, select, update

from mltracker.service.db.sessions_schema import ui_sessions
from mltracker.service.gitlab.oauth import OAuthTokens

# A session ends after this long without a request, and after this long in any case.
IDLE_TIMEOUT_S = 12 * 3600
MAX_AGE_S = 7 * 24 * 3600
# last_seen is written at most this often (not on every page view).
TOUCH_EVERY_S = 300


@dataclass(frozen=True)
class UiSession:
    id_hash: str
    user_id: int
    user: dict
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_expires: int
    created: int
    last_seen: int

    def expired(self, now: float) -> bool:
        return now - self.last_seen > IDLE_TIMEOUT_S or now - self.created > MAX_AGE_S


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def hash_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class TokenBox:
    """Encrypts the stored GitLab tokens with a key derived from the app's secret key."""

    def __init__(self, secret_key: str):
        digest = hashlib.sha256(b"mltracker ui-session tokens\0" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, token: str | None) -> str | None:
        return None if token is None else self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:  # the secret key changed: the session cannot be used
            return None


def create(conn: Connection, box: TokenBox, user: dict, tokens: OAuthTokens) -> str:
    """A new session for the user; returns the id to put in the cookie."""
    session_id = new_session_id()
    now = int(time.time())
    conn.execute(insert(ui_sessions).values(
        id=hash_of(session_id), user_id=int(user["id"]), user_json=json.dumps(user),
        access_token=box.seal(tokens.access_token), refresh_token=box.seal(tokens.refresh_token),
        token_expires=tokens.expires_at, created=now, last_seen=now,
    ))
    return session_id


def load(conn: Connection, box: TokenBox, session_id: str) -> UiSession | None:
    """The live session with this id, or None (unknown, ended, expired, or sealed with another key)."""
    row = conn.execute(select(ui_sessions).where(ui_sessions.c.id == hash_of(session_id))).first()
    if row is None:
        return None
    access_token = box.open(row.access_token)
    found = UiSession(
        id_hash=row.id, user_id=int(row.user_id), user=json.loads(row.user_json), access_token=access_token or "",
        refresh_token=box.open(row.refresh_token), token_expires=int(row.token_expires),
        created=int(row.created), last_seen=int(row.last_seen),
    )
    if access_token is None or found.expired(time.time()):
        return None
    return found


def touch(conn: Connection, found: UiSession) -> None:
    now = int(time.time())
    if now - found.last_seen >= TOUCH_EVERY_S:
        conn.execute(update(ui_sessions).where(ui_sessions.c.id == found.id_hash).values(last_seen=now))


def replace_tokens(conn: Connection, box: TokenBox, found: UiSession, tokens: OAuthTokens) -> bool:
    """Store refreshed tokens, unless another request refreshed this session first (then False)."""
    result = conn.execute(
        update(ui_sessions)
        .where(ui_sessions.c.id == found.id_hash, ui_sessions.c.token_expires == found.token_expires)
        .values(access_token=box.seal(tokens.access_token), refresh_token=box.seal(tokens.refresh_token),
                token_expires=tokens.expires_at)
    )
    return result.rowcount == 1


def end_all_of_user(conn: Connection, box: TokenBox, user_id: int) -> list[str]:
    """Delete every session of the user; returns their access tokens (to revoke at GitLab)."""
    rows = conn.execute(select(ui_sessions.c.access_token).where(ui_sessions.c.user_id == user_id)).all()
    conn.execute(delete(ui_sessions).where(ui_sessions.c.user_id == user_id))
    return [t for t in (box.open(r.access_token) for r in rows) if t]


def end(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(ui_sessions).where(ui_sessions.c.id == id_hash))


def sweep_expired(conn: Connection) -> int:
    now = int(time.time())
    result = conn.execute(delete(ui_sessions).where(
        (ui_sessions.c.last_seen < now - IDLE_TIMEOUT_S) | (ui_sessions.c.created < now - MAX_AGE_S)
    ))
    return result.rowcount or 0
