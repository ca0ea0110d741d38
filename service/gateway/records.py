"""Typed values of the gateway configuration (service/api/gateway_json.py writes their MLflow JSON)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SecretInfo:
    """A secret as it may be shown: its values masked, never in clear."""
    id: str
    name: str
    masked_values: dict[str, str]
    provider: str | None
    auth_config: dict[str, str] | None
    created_at: int
    last_updated_at: int
    created_by: str | None
    last_updated_by: str | None


@dataclass(frozen=True)
class ModelDefinition:
    id: str
    name: str
    secret_id: str | None
    secret_name: str | None
    provider: str
    model_name: str
    created_at: int
    last_updated_at: int
    created_by: str | None
    last_updated_by: str | None


@dataclass(frozen=True)
class ModelConfig:
    """How an endpoint uses a model definition (what a client sends)."""
    model_definition_id: str
    linkage_type: str = "PRIMARY"
    weight: float = 1.0
    fallback_order: int | None = None


@dataclass(frozen=True)
class ModelMapping:
    id: str
    endpoint_id: str
    model_definition: ModelDefinition
    linkage_type: str
    weight: float
    fallback_order: int | None
    created_at: int
    created_by: str | None


@dataclass(frozen=True)
class FallbackConfig:
    strategy: str | None = None
    max_attempts: int | None = None


@dataclass(frozen=True)
class Endpoint:
    id: str
    name: str
    created_at: int
    last_updated_at: int
    created_by: str | None
    last_updated_by: str | None
    routing_strategy: str | None
    fallback_config: FallbackConfig | None
    experiment_id: str | None
    usage_tracking: bool
    model_mappings: list[ModelMapping] = field(default_factory=list)


@dataclass(frozen=True)
class Binding:
    endpoint_id: str
    resource_type: str
    resource_id: str
    created_at: int
    last_updated_at: int
    created_by: str | None
    last_updated_by: str | None
