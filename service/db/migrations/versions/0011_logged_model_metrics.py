"""Metrics logged against a logged model (log_metric(..., model_id=…)), with their dataset

Revision ID: 0011_logged_model_metrics
Revises: 0010_import_progress
"""
from alembic import op
import sqlalchemy as sa

revision = "0011_logged_model_metrics"
down_revision = "0010_import_progress"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("metric_name", sa.String(length=500), nullable=False),
        sa.Column("metric_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("metric_step", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("metric_value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("dataset_uuid", sa.String(length=36), nullable=True),
        sa.Column("dataset_name", sa.String(length=500), nullable=True),
        sa.Column("dataset_digest", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"], ["logged_models.model_id"],
            name=op.f("fk_logged_model_metrics_model_id_logged_models"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id",
                                name=op.f("pk_logged_model_metrics")),
    )
    op.create_index(op.f("ix_logged_model_metrics_metric_name_dataset_name"), "logged_model_metrics",
                    ["metric_name", "dataset_name"])


def downgrade() -> None:
    op.drop_index(op.f("ix_logged_model_metrics_metric_name_dataset_name"), table_name="logged_model_metrics")
    op.drop_table("logged_model_metrics")
