"""The durable job queue's table (bot work: reports, commands)."""
from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from mltracker.service.db.metadata import AutoId, metadata

jobs = Table(
    "jobs",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("project_id", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    # Redeliveries and duplicates of the same work share this key; the queue keeps the first.
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", BigInteger, nullable=False),
    Column("locked_until", BigInteger),
    Column("last_error", Text),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Index(None, "status", "run_after"),
    Index(None, "project_id", "status"),
)

# Named leases, e.g. one merge request's report: held by one job at a time, expiring on their own
# if the holder dies.
leases = Table(
    "leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires", BigInteger, nullable=False),
)

# Files the bot uploaded to a merge request's project, by content: a retried or re-run report links
# the upload it already made instead of uploading the same bytes again.
bot_uploads = Table(
    "bot_uploads",
    metadata,
    Column("project_id", BigInteger, primary_key=True),
    Column("merge_request_iid", BigInteger, primary_key=True),
    Column("content_hash", String(64), primary_key=True),
    Column("url", String(1024), nullable=False),
    Column("created_time", BigInteger, nullable=False),
)
