"""The tracking tables (SQLAlchemy Core): experiments, runs and what hangs off them, and CI links.

The whole schema is `service/db/tables.py`; Alembic migrations under migrations/ build exactly that."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mltracker.service.db.metadata import AutoId, Double, metadata  # noqa: F401  (for the table modules)

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", AutoId, primary_key=True, autoincrement=True),
    Column("project_id", BigInteger, nullable=False),
    Column("name", String(500), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    UniqueConstraint("project_id", "name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("experiment_id", ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("experiment_id", ForeignKey("experiments.experiment_id", ondelete="CASCADE"), nullable=False),
    Column("project_id", BigInteger, nullable=False),
    Column("name", String(250), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("deleted_time", BigInteger),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("artifact_uri", Text, nullable=False),
    Index(None, "experiment_id", "lifecycle_stage", "start_time"),
    Index(None, "project_id"),
)

params = Table(
    "params",
    metadata,
    Column("run_uuid", ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index(None, "key"),
    sqlite_with_rowid=False,
)

tags = Table(
    "tags",
    metadata,
    Column("run_uuid", ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index(None, "key"),
    sqlite_with_rowid=False,
)

# Tables keyed by a composite primary key are WITHOUT ROWID on SQLite: one B-tree, not two.

# Every logged point. The whole row is the key, so a retried log-metric/log-batch is a no-op
# (INSERT … ON CONFLICT DO NOTHING); its order is the history's (timestamp, step, value), so
# history pages are key ranges, read in order. NaN is stored as value 0 with is_nan set (SQLite has no NaN).
# run_uuid has no foreign key: the database would check it once per point (most of PostgreSQL's time
# for a 1,000-point batch); every write checks its run first, in the same transaction, and run rows
# are never deleted (deleting a run is a lifecycle stage).
metrics = Table(
    "metrics",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("timestamp", BigInteger, primary_key=True),
    Column("step", BigInteger, primary_key=True),
    Column("value", Double, primary_key=True),
    Column("is_nan", Boolean, primary_key=True),
    sqlite_with_rowid=False,
)

# The value MLflow reports in run.data.metrics: the point with the greatest (step, timestamp, value).
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_uuid", ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Double, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Index(None, "key", "value"),
    sqlite_with_rowid=False,
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_uuid", String(36), primary_key=True),
    Column("experiment_id", ForeignKey("experiments.experiment_id", ondelete="CASCADE"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    UniqueConstraint("experiment_id", "name", "digest"),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("input_uuid", String(36), primary_key=True),
    Column("run_uuid", ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("dataset_uuid", ForeignKey("datasets.dataset_uuid", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("run_uuid", "dataset_uuid"),
)

input_tags = Table(
    "input_tags",
    metadata,
    Column("input_uuid", ForeignKey("run_inputs.input_uuid", ondelete="CASCADE"), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

# MLflow 3 logged models used (direction "input") or produced ("output") by a run.
run_models = Table(
    "run_models",
    metadata,
    Column("run_uuid", ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True),
    Column("model_id", String(64), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("step", BigInteger, nullable=False, default=0),
)

# ---------------------------------------------------------------- GitLab CI links

# One row per candidate produced by a CI job: which job, pipeline, commit, ref and merge request.
# The gitlab.* run tags carry the same facts for MLflow clients; this table makes "candidates of
# pipeline N", "of merge request !M" and "latest on branch B" indexed queries.
ci_links = Table(
    "ci_links",
    metadata,
    Column("run_uuid", ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True),
    Column("project_id", BigInteger, nullable=False),
    Column("job_id", BigInteger, nullable=False),
    Column("pipeline_id", BigInteger, nullable=False),
    Column("commit_sha", String(64), nullable=False),
    Column("ref", String(255), nullable=False),
    Column("merge_request_iid", BigInteger),
    Column("user", String(255), nullable=False),
    Column("linked_time", BigInteger, nullable=False),
    Index(None, "project_id", "pipeline_id"),
    Index(None, "project_id", "merge_request_iid"),
    Index(None, "project_id", "ref", "pipeline_id"),
)
from mltracker.service.db import jobs_schema  # noqa: E402,F401  (registers the jobs table)
from mltracker.service.db import registry_schema  # noqa: E402,F401  (registers the registry and logged-model tables)
from mltracker.service.db import sessions_schema  # noqa: E402,F401  (registers the web UI sessions table)
from mltracker.service.importer import progress_schema  # noqa: E402,F401  (registers the importer progress table)
from mltracker.service.db import bot_schema  # noqa: E402,F401  (registers the bot's webhook-secret and reply tables)
from mltracker.service.db import evaluation_schema  # noqa: E402,F401  (registers the evaluation dataset and scorer tables)
