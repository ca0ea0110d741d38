"""Signed-in web UI sessions, kept server-side: the cookie carries only a random session id."""
from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from mltracker.service.db.metadata import metadata

ui_sessions = Table(
    "ui_sessions",
    metadata,
    # SHA-256 of the cookie's session id: a leaked table does not give usable cookies.
    Column("id", String(64), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("user_json", Text, nullable=False),  # username, name, avatar_url, web_url
    # The GitLab OAuth tokens, encrypted with a key derived from the app's secret key.
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text),
    Column("token_expires", BigInteger, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Index(None, "user_id"),
)
