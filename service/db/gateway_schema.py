"""Tables of MLflow's AI Gateway configuration, per project: secrets (provider credentials, sealed
with registry_webhooks/secrets.SecretBox, never stored in clear), model definitions (a provider
model and the secret it uses), endpoints, the model definitions each endpoint routes to, and what
each endpoint is bound to. This server stores the configuration; it does not call the providers."""
from sqlalchemy import (
    BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint,
)

from mltracker.service.db.metadata import Double, metadata

gateway_secrets = Table(
    "gateway_secrets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("sealed_value", Text, nullable=False),
    Column("masked_values", Text, nullable=False),
    Column("provider", String(100)),
    Column("auth_config", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("last_updated_at", BigInteger, nullable=False),
    Column("created_by", String(255)),
    Column("last_updated_by", String(255)),
    UniqueConstraint("project_id", "name"),
)

gateway_model_definitions = Table(
    "gateway_model_definitions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    # A deleted secret leaves its model definitions in place, without a secret (as MLflow does).
    Column("secret_id", String(40), ForeignKey("gateway_secrets.id", ondelete="SET NULL")),
    Column("provider", String(100), nullable=False),
    Column("model_name", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_updated_at", BigInteger, nullable=False),
    Column("created_by", String(255)),
    Column("last_updated_by", String(255)),
    UniqueConstraint("project_id", "name"),
)

gateway_endpoints = Table(
    "gateway_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("routing_strategy", String(50)),
    Column("fallback_config", Text),
    Column("experiment_id", String(40)),
    Column("usage_tracking", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_updated_at", BigInteger, nullable=False),
    Column("created_by", String(255)),
    Column("last_updated_by", String(255)),
    UniqueConstraint("project_id", "name"),
)

gateway_endpoint_models = Table(
    "gateway_endpoint_models",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("endpoint_id", String(40), ForeignKey("gateway_endpoints.id", ondelete="CASCADE"), nullable=False),
    # A model definition in use by an endpoint cannot be deleted (detach it first).
    Column("model_definition_id", String(40), ForeignKey("gateway_model_definitions.id", ondelete="RESTRICT"),
           nullable=False),
    Column("linkage_type", String(20), nullable=False),
    Column("weight", Double, nullable=False),
    Column("fallback_order", Integer),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(255)),
    UniqueConstraint("endpoint_id", "model_definition_id", "linkage_type"),
    Index(None, "model_definition_id"),
)

gateway_endpoint_bindings = Table(
    "gateway_endpoint_bindings",
    metadata,
    Column("endpoint_id", String(40), ForeignKey("gateway_endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("resource_type", String(50), primary_key=True),
    Column("resource_id", String(255), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_updated_at", BigInteger, nullable=False),
    Column("created_by", String(255)),
    Column("last_updated_by", String(255)),
    Index(None, "resource_type", "resource_id"),
)
