"""MLflow AI Gateway configuration: secrets, model definitions, endpoints, their models and bindings

Revision ID: 0016_gateway
Revises: 0015_registry_webhooks
"""
from alembic import op
import sqlalchemy as sa

revision = "0016_gateway"
down_revision = "0015_registry_webhooks"
branch_labels = None
depends_on = None


def _audit() -> list:
    return [
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("last_updated_by", sa.String(length=255), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "gateway_secrets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sealed_value", sa.Text(), nullable=False),
        sa.Column("masked_values", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("auth_config", sa.Text(), nullable=True),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_secrets")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_gateway_secrets_project_id_name")),
    )
    op.create_table(
        "gateway_model_definitions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("secret_id", sa.String(length=40), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(["secret_id"], ["gateway_secrets.id"], ondelete="SET NULL",
                                name=op.f("fk_gateway_model_definitions_secret_id_gateway_secrets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_model_definitions")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_gateway_model_definitions_project_id_name")),
    )
    op.create_table(
        "gateway_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("routing_strategy", sa.String(length=50), nullable=True),
        sa.Column("fallback_config", sa.Text(), nullable=True),
        sa.Column("experiment_id", sa.String(length=40), nullable=True),
        sa.Column("usage_tracking", sa.Boolean(), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_endpoints")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_gateway_endpoints_project_id_name")),
    )
    op.create_table(
        "gateway_endpoint_models",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("model_definition_id", sa.String(length=40), nullable=False),
        sa.Column("linkage_type", sa.String(length=20), nullable=False),
        sa.Column("weight", sa.Float(precision=53), nullable=False),
        sa.Column("fallback_order", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["gateway_endpoints.id"], ondelete="CASCADE",
                                name=op.f("fk_gateway_endpoint_models_endpoint_id_gateway_endpoints")),
        sa.ForeignKeyConstraint(["model_definition_id"], ["gateway_model_definitions.id"], ondelete="RESTRICT",
                                name=op.f("fk_gateway_endpoint_models_model_definition_id_gateway_model_definitions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_endpoint_models")),
        sa.UniqueConstraint("endpoint_id", "model_definition_id", "linkage_type",
                            name=op.f("uq_gateway_endpoint_models_endpoint_id_model_definition_id_linkage_type")),
    )
    op.create_index(op.f("ix_gateway_endpoint_models_model_definition_id"), "gateway_endpoint_models",
                    ["model_definition_id"])
    op.create_table(
        "gateway_endpoint_bindings",
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=False),
        sa.Column("resource_id", sa.String(length=255), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(["endpoint_id"], ["gateway_endpoints.id"], ondelete="CASCADE",
                                name=op.f("fk_gateway_endpoint_bindings_endpoint_id_gateway_endpoints")),
        sa.PrimaryKeyConstraint("endpoint_id", "resource_type", "resource_id",
                                name=op.f("pk_gateway_endpoint_bindings")),
    )
    op.create_index(op.f("ix_gateway_endpoint_bindings_resource_type_resource_id"), "gateway_endpoint_bindings",
                    ["resource_type", "resource_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_endpoint_bindings_resource_type_resource_id"),
                  table_name="gateway_endpoint_bindings")
    op.drop_table("gateway_endpoint_bindings")
    op.drop_index(op.f("ix_gateway_endpoint_models_model_definition_id"), table_name="gateway_endpoint_models")
    op.drop_table("gateway_endpoint_models")
    op.drop_table("gateway_endpoints")
    op.drop_table("gateway_model_definitions")
    op.drop_table("gateway_secrets")
