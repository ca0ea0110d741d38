"""Tables of MLflow's registry webhooks: one row per webhook (per project), and the events it
listens to. The HMAC secret is stored encrypted (registry_webhooks/secrets.py), never in clear."""
from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from mltracker.service.db.metadata import metadata

registry_webhooks = Table(
    "registry_webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", BigInteger, nullable=False),
    Column("name", String(256), nullable=False),
    Column("description", String(1000)),
    Column("url", String(500), nullable=False),
    Column("status", String(20), nullable=False),
    Column("secret", Text),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Index(None, "project_id", "creation_timestamp"),
)

registry_webhook_events = Table(
    "registry_webhook_events",
    metadata,
    Column("webhook_id", String(36), ForeignKey("registry_webhooks.id", ondelete="CASCADE"), primary_key=True),
    Column("entity", String(50), primary_key=True),
    Column("action", String(50), primary_key=True),
    Index(None, "entity", "action"),
)
