"""Tables of the GitLab bot's own state: per-project webhook secrets and answered commands."""
from sqlalchemy import BigInteger, Column, String, Table, Text

from mltracker.service.db.metadata import metadata

# One secret per project (`mltracker webhook add`), stored as its SHA-256: the secret is 256 random
# bits, so a fast hash is enough and a leaked table lets nobody sign webhooks.
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("project_id", BigInteger, primary_key=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("hook_id", BigInteger),  # the project hook the bot registered with this secret, if any
    Column("created_time", BigInteger, nullable=False),
)

# What the bot answered to a command note, written in the same transaction as the command's effect
# (a promote), and the id of the reply once GitLab has it: a retried job neither promotes nor
# replies twice.
command_replies = Table(
    "command_replies",
    metadata,
    Column("project_id", BigInteger, primary_key=True),
    Column("note_id", BigInteger, primary_key=True),
    Column("body", Text, nullable=False),
    Column("reply_note_id", BigInteger),
    Column("created_time", BigInteger, nullable=False),
)
