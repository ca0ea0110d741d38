"""Model registry and MLflow 3 logged-model tables, on the shared `metadata`.

Registered models get a surrogate id so that a rename touches one row; versions, tags and aliases
hang off that id and go with it on delete. `last_version` is the per-model version counter:
create_model_version bumps it with one UPDATE … RETURNING, so concurrent writers never receive
the same number (PostgreSQL row lock; SQLite writers are serialised by BEGIN IMMEDIATE), and a
deleted version's number is never reused.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mltracker.service.db.metadata import AutoId, metadata

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("project_id", BigInteger, nullable=False),
    Column("name", String(256), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", Text),
    Column("last_version", Integer, nullable=False, default=0),
    UniqueConstraint("project_id", "name"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("registered_model_id", ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("registered_model_id", ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", Text),
    Column("user_id", String(256)),
    Column("current_stage", String(20), nullable=False),
    Column("source", Text, nullable=False),
    Column("storage_location", Text, nullable=False),
    Column("run_id", String(32)),
    Column("run_link", Text),
    Column("model_id", String(64)),
    Column("status", String(20), nullable=False),
    Column("status_message", Text),
    Index(None, "run_id"),
    Index(None, "model_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("registered_model_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(
        ["registered_model_id", "version"],
        ["model_versions.registered_model_id", "model_versions.version"],
        ondelete="CASCADE",
    ),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("registered_model_id", ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(256), primary_key=True),
    Column("version", Integer, nullable=False),
)

# MLflow 3 logged models. project_id is the experiment's, kept here so scoping checks need no join.
logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column("project_id", BigInteger, nullable=False),
    Column("experiment_id", ForeignKey("experiments.experiment_id", ondelete="CASCADE"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", Text),
    Index(None, "experiment_id", "creation_timestamp_ms"),
    Index(None, "source_run_id"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

# Metrics logged against a logged model (log_metric(..., model_id=…)), as MLflow keeps them: every
# point, with the run it was logged from and the dataset it was measured on. NaN as value 0 + is_nan.
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("model_id", ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("metric_name", String(500), primary_key=True),
    Column("metric_timestamp_ms", BigInteger, primary_key=True),
    Column("metric_step", BigInteger, primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("metric_value", Float(precision=53), nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("dataset_uuid", String(36)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    Index(None, "metric_name", "dataset_name"),
)
