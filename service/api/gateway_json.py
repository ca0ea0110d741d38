"""MLflow's JSON of the AI Gateway messages (service.proto's GatewaySecretInfo, GatewayModelDefinition,
GatewayEndpoint, GatewayEndpointModelMapping, GatewayEndpointBinding): unset fields left out, as
MLflow's message_to_json leaves them out."""
from __future__ import annotations

from mltracker.service.gateway.records import Binding, Endpoint, ModelDefinition, ModelMapping, SecretInfo


def _present(pairs) -> dict:
    return {k: v for k, v in pairs if v is not None and v != {} and v != []}


def secret_json(s: SecretInfo) -> dict:
    return _present([
        ("secret_id", s.id), ("secret_name", s.name), ("masked_values", s.masked_values),
        ("created_at", s.created_at), ("last_updated_at", s.last_updated_at), ("provider", s.provider),
        ("created_by", s.created_by), ("last_updated_by", s.last_updated_by), ("auth_config", s.auth_config),
    ])


def model_definition_json(d: ModelDefinition) -> dict:
    return _present([
        ("model_definition_id", d.id), ("name", d.name), ("secret_id", d.secret_id), ("secret_name", d.secret_name),
        ("provider", d.provider), ("model_name", d.model_name), ("created_at", d.created_at),
        ("last_updated_at", d.last_updated_at), ("created_by", d.created_by), ("last_updated_by", d.last_updated_by),
    ])


def mapping_json(m: ModelMapping) -> dict:
    return _present([
        ("mapping_id", m.id), ("endpoint_id", m.endpoint_id), ("model_definition_id", m.model_definition.id),
        ("model_definition", model_definition_json(m.model_definition)), ("weight", m.weight),
        ("created_at", m.created_at), ("created_by", m.created_by), ("linkage_type", m.linkage_type),
        ("fallback_order", m.fallback_order),
    ])


def endpoint_json(e: Endpoint) -> dict:
    fallback = e.fallback_config and _present([("strategy", e.fallback_config.strategy),
                                               ("max_attempts", e.fallback_config.max_attempts)])
    return _present([
        ("endpoint_id", e.id), ("name", e.name), ("created_at", e.created_at), ("last_updated_at", e.last_updated_at),
        ("model_mappings", [mapping_json(m) for m in e.model_mappings]), ("created_by", e.created_by),
        ("last_updated_by", e.last_updated_by), ("routing_strategy", e.routing_strategy),
        ("fallback_config", fallback or None), ("experiment_id", e.experiment_id),
        ("usage_tracking", e.usage_tracking),
    ])


def binding_json(b: Binding) -> dict:
    return _present([
        ("endpoint_id", b.endpoint_id), ("resource_type", b.resource_type), ("resource_id", b.resource_id),
        ("created_at", b.created_at), ("last_updated_at", b.last_updated_at), ("created_by", b.created_by),
        ("last_updated_by", b.last_updated_by),
    ])
