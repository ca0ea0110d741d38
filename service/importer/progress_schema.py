"""The importer's durable progress: one row per source item (experiment, run, logged model,
registered model) it has started or finished copying into a project.

A row in state "started" is written in the same transaction as the item's first target row, so an
interrupted import knows which half-written items are its own (resume them) and which existing
items are not (compare them: identical or a conflict). `target_key` keeps the id mapping (source
experiment id → target experiment id); `fingerprint` is a digest of what the source said, so a
second import of an unchanged item does nothing.
"""
from sqlalchemy import BigInteger, Column, String, Table, Text

from mltracker.service.db.metadata import metadata

import_progress = Table(
    "import_progress",
    metadata,
    Column("source", String(500), primary_key=True),
    Column("project_id", BigInteger, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("source_key", String(500), primary_key=True),
    Column("target_key", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("fingerprint", String(64)),
    Column("updated_time", BigInteger, nullable=False),
)
