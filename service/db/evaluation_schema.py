"""Tables of MLflow 3's GenAI evaluation side: evaluation datasets (records, tags, the experiments
they are linked to) and registered scorers with their versions."""
from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from mltracker.service.db.metadata import metadata

evaluation_datasets = Table(
    "evaluation_datasets",
    metadata,
    Column("dataset_id", String(36), primary_key=True),
    Column("project_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    Column("created_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("created_by", String(255)),
    Column("last_updated_by", String(255)),
    Index(None, "project_id", "name"),
    Index(None, "project_id", "created_time"),
)

evaluation_dataset_tags = Table(
    "evaluation_dataset_tags",
    metadata,
    Column("dataset_id", ForeignKey("evaluation_datasets.dataset_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", String(5000)),
)

# JSON documents are stored as JSON text: the server only hands them back, never queries inside.
# One record per distinct inputs (input_hash: SHA-256 of the inputs as sorted-key JSON, as MLflow);
# records page in (created_time, dataset_record_id) order.
evaluation_dataset_records = Table(
    "evaluation_dataset_records",
    metadata,
    Column("dataset_record_id", String(36), primary_key=True),
    Column("dataset_id", ForeignKey("evaluation_datasets.dataset_id", ondelete="CASCADE"), nullable=False),
    Column("input_hash", String(64), nullable=False),
    Column("inputs", Text, nullable=False),
    Column("outputs", Text),
    Column("expectations", Text),
    Column("tags", Text),
    Column("source", Text),
    Column("source_id", String(255)),
    Column("source_type", String(255)),
    Column("created_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("created_by", String(255)),
    Column("last_updated_by", String(255)),
    UniqueConstraint("dataset_id", "input_hash"),
    Index(None, "dataset_id", "created_time", "dataset_record_id"),
)

evaluation_dataset_experiments = Table(
    "evaluation_dataset_experiments",
    metadata,
    Column("dataset_id", ForeignKey("evaluation_datasets.dataset_id", ondelete="CASCADE"), primary_key=True),
    Column("experiment_id", ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True),
    Column("created_time", BigInteger, nullable=False),
    Index(None, "experiment_id"),
)

scorers = Table(
    "scorers",
    metadata,
    Column("scorer_id", String(36), primary_key=True),
    Column("experiment_id", ForeignKey("experiments.experiment_id", ondelete="CASCADE"), nullable=False),
    Column("name", String(256), nullable=False),
    UniqueConstraint("experiment_id", "name"),
)

scorer_versions = Table(
    "scorer_versions",
    metadata,
    Column("scorer_id", ForeignKey("scorers.scorer_id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("serialized_scorer", Text, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
)
