"""MLflow 3 GenAI evaluation: evaluation datasets (tags, records, experiment links) and scorers

Revision ID: 0013_evaluation_datasets_scorers
Revises: 0012_bot_state
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_evaluation_datasets_scorers"
down_revision = "0012_bot_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_datasets",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("schema", sa.Text(), nullable=True),
        sa.Column("profile", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("last_updated_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_evaluation_datasets")),
    )
    op.create_index(op.f("ix_evaluation_datasets_project_id_name"), "evaluation_datasets", ["project_id", "name"])
    op.create_index(op.f("ix_evaluation_datasets_project_id_created_time"), "evaluation_datasets",
                    ["project_id", "created_time"])
    op.create_table(
        "evaluation_dataset_tags",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=5000), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["evaluation_datasets.dataset_id"],
                                name=op.f("fk_evaluation_dataset_tags_dataset_id_evaluation_datasets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_id", "key", name=op.f("pk_evaluation_dataset_tags")),
    )
    op.create_table(
        "evaluation_dataset_records",
        sa.Column("dataset_record_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=True),
        sa.Column("expectations", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("source_type", sa.String(length=255), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("last_updated_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["evaluation_datasets.dataset_id"],
                                name=op.f("fk_evaluation_dataset_records_dataset_id_evaluation_datasets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_record_id", name=op.f("pk_evaluation_dataset_records")),
        sa.UniqueConstraint("dataset_id", "input_hash",
                            name=op.f("uq_evaluation_dataset_records_dataset_id_input_hash")),
    )
    op.create_index(op.f("ix_evaluation_dataset_records_dataset_id_created_time_dataset_record_id"),
                    "evaluation_dataset_records", ["dataset_id", "created_time", "dataset_record_id"])
    op.create_table(
        "evaluation_dataset_experiments",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["evaluation_datasets.dataset_id"],
                                name=op.f("fk_evaluation_dataset_experiments_dataset_id_evaluation_datasets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"],
                                name=op.f("fk_evaluation_dataset_experiments_experiment_id_experiments"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_id", "experiment_id", name=op.f("pk_evaluation_dataset_experiments")),
    )
    op.create_index(op.f("ix_evaluation_dataset_experiments_experiment_id"), "evaluation_dataset_experiments",
                    ["experiment_id"])
    op.create_table(
        "scorers",
        sa.Column("scorer_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"],
                                name=op.f("fk_scorers_experiment_id_experiments"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("scorer_id", name=op.f("pk_scorers")),
        sa.UniqueConstraint("experiment_id", "name", name=op.f("uq_scorers_experiment_id_name")),
    )
    op.create_table(
        "scorer_versions",
        sa.Column("scorer_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("serialized_scorer", sa.Text(), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["scorer_id"], ["scorers.scorer_id"],
                                name=op.f("fk_scorer_versions_scorer_id_scorers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("scorer_id", "version", name=op.f("pk_scorer_versions")),
    )


def downgrade() -> None:
    op.drop_table("scorer_versions")
    op.drop_table("scorers")
    op.drop_table("evaluation_dataset_experiments")
    op.drop_table("evaluation_dataset_records")
    op.drop_table("evaluation_dataset_tags")
    op.drop_table("evaluation_datasets")
