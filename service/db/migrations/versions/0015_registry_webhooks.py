"""MLflow registry webhooks: the webhooks of each project and the events they listen to

Revision ID: 0015_registry_webhooks
Revises: 0014_traces
"""
from alembic import op
import sqlalchemy as sa

revision = "0015_registry_webhooks"
down_revision = "0014_traces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_webhooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_webhooks")),
    )
    op.create_index(op.f("ix_registry_webhooks_project_id_creation_timestamp"), "registry_webhooks",
                    ["project_id", "creation_timestamp"])
    op.create_table(
        "registry_webhook_events",
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(["webhook_id"], ["registry_webhooks.id"], ondelete="CASCADE",
                                name=op.f("fk_registry_webhook_events_webhook_id_registry_webhooks")),
        sa.PrimaryKeyConstraint("webhook_id", "entity", "action", name=op.f("pk_registry_webhook_events")),
    )
    op.create_index(op.f("ix_registry_webhook_events_entity_action"), "registry_webhook_events",
                    ["entity", "action"])


def downgrade() -> None:
    op.drop_index(op.f("ix_registry_webhook_events_entity_action"), table_name="registry_webhook_events")
    op.drop_table("registry_webhook_events")
    op.drop_index(op.f("ix_registry_webhooks_project_id_creation_timestamp"), table_name="registry_webhooks")
    op.drop_table("registry_webhooks")
