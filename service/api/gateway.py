"""MLflow's AI Gateway configuration endpoints (/api/3.0/mlflow/gateway/…): secrets, model
definitions, endpoints, their models and bindings, per project like the rest of the API. The
configuration is stored (secrets sealed); this server does not proxy calls to the providers."""
from __future__ import annotations

from flask import Blueprint

from mltracker.service.api.gateway_json import (
    binding_json, endpoint_json, mapping_json, model_definition_json, secret_json,
)
from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import RequestMessage, message
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.gateway import endpoints, model_definitions, secrets
from mltracker.service.gateway import validation as v
from mltracker.service.gateway.records import FallbackConfig, ModelConfig
from mltracker.service.registry_webhooks.secrets import SecretBox
from mltracker.service.registry_webhooks.runtime import encryption_key, url_rules

bp = Blueprint("gateway", __name__)
ROUTING_STRATEGIES = {1: "REQUEST_BASED_TRAFFIC_SPLIT"}
FALLBACK_STRATEGIES = {1: "SEQUENTIAL"}


def _box() -> SecretBox:
    return SecretBox(encryption_key(services().settings), purpose=secrets.PURPOSE)


def _map(msg: RequestMessage, name: str) -> dict[str, str] | None:
    raw = msg.raw(name)
    return None if raw is None else v.string_map(name, raw)


def _enum(msg: RequestMessage, name: str, names: dict[int, str]) -> str | None:
    value = msg.raw(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = names.get(value)
    if value not in names.values():
        raise invalid(f"Invalid value {value!r} for parameter '{name}'. Must be one of: {', '.join(names.values())}.")
    return value


def _model_config(raw, where: str) -> ModelConfig:
    if not isinstance(raw, dict) or not isinstance(raw.get("model_definition_id"), str):
        raise invalid(f"Missing value for required parameter 'model_definition_id' in {where}.")
    weight, order = raw.get("weight", 1.0), raw.get("fallback_order")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 <= weight <= 1e9:
        raise invalid(f"Invalid value {weight!r} for parameter 'weight' in {where}.")
    if order is not None and (not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 2**31 - 1):
        raise invalid(f"Invalid value {order!r} for parameter 'fallback_order' in {where}.")
    return ModelConfig(raw["model_definition_id"], v.linkage_type(raw.get("linkage_type")), float(weight), order)


def _model_configs(msg: RequestMessage) -> list[ModelConfig]:
    return [_model_config(raw, f"model_configs[{i}]") for i, raw in enumerate(msg.objects("model_configs"))]


def _fallback(msg: RequestMessage) -> FallbackConfig | None:
    raw = msg.object("fallback_config")
    if raw is None:
        return None
    attempts = raw.get("max_attempts")
    if attempts is not None and (not isinstance(attempts, int) or isinstance(attempts, bool) or not 0 <= attempts <= 100):
        raise invalid(f"Invalid value {attempts!r} for parameter 'fallback_config.max_attempts'.")
    return FallbackConfig(_enum(RequestMessage(raw, from_query=False), "strategy", FALLBACK_STRATEGIES), attempts)


def _optional_bool(msg: RequestMessage, name: str) -> bool | None:
    return None if msg.raw(name) is None else msg.boolean(name)


# ---------------------------------------------------------------- secrets


@bp.post("/gateway/secrets/create")
def create_secret():
    msg = message()
    name = msg.string("secret_name", required=True)
    value = _map(msg, "secret_value") or {}
    settings = services().settings
    with services().db.write() as conn:
        secret = secrets.create(conn, _box(), url_rules(settings), current_project_id(), name=name,
                                secret_value=value, provider=msg.string("provider") or None,
                                auth_config=_map(msg, "auth_config") or None,
                                created_by=msg.string("created_by") or None)
    return json_response({"secret": secret_json(secret)})


@bp.get("/gateway/secrets/get")
def get_secret():
    msg = message()
    secret_id = msg.string("secret_id", required=True)
    with services().db.read() as conn:
        secret = secrets.get(conn, current_project_id(), secret_id)
    return json_response({"secret": secret_json(secret)})


@bp.post("/gateway/secrets/update")
def update_secret():
    msg = message()
    secret_id = msg.string("secret_id", required=True)
    settings = services().settings
    with services().db.write() as conn:
        secret = secrets.change(conn, _box(), url_rules(settings), current_project_id(), secret_id,
                                secret_value=_map(msg, "secret_value") or None, auth_config=_map(msg, "auth_config"),
                                updated_by=msg.string("updated_by") or None)
    return json_response({"secret": secret_json(secret)})


@bp.delete("/gateway/secrets/delete")
def delete_secret():
    msg = message()
    secret_id = msg.string("secret_id", required=True)
    with services().db.write() as conn:
        secrets.delete_secret(conn, current_project_id(), secret_id)
    return json_response({})


@bp.get("/gateway/secrets/list")
def list_secrets():
    msg = message()
    with services().db.read() as conn:
        found = secrets.list_infos(conn, current_project_id(), msg.string("provider") or None)
    return json_response({"secrets": [secret_json(s) for s in found]} if found else {})


@bp.get("/gateway/secrets/config")
def secrets_config():
    """MLflow's UI warns when secrets are sealed with MLflow's built-in passphrase (known to anyone).
    mltracker has none: its key is MLTRACKER_WEBHOOK_ENCRYPTION_KEY or the install's own random
    secret key, so the answer is always False."""
    return json_response({"secrets_available": True, "using_default_passphrase": False})


# ---------------------------------------------------------------- model definitions


@bp.post("/gateway/model-definitions/create")
def create_model_definition():
    msg = message()
    name = msg.string("name", required=True)
    secret_id = msg.string("secret_id", required=True)
    provider = msg.string("provider", required=True)
    model_name = msg.string("model_name", required=True)
    with services().db.write() as conn:
        found = model_definitions.create(conn, current_project_id(), name=name, secret_id=secret_id,
                                         provider=provider, model_name=model_name,
                                         created_by=msg.string("created_by") or None)
    return json_response({"model_definition": model_definition_json(found)})


@bp.get("/gateway/model-definitions/get")
def get_model_definition():
    msg = message()
    definition_id = msg.string("model_definition_id", required=True)
    with services().db.read() as conn:
        found = model_definitions.get(conn, current_project_id(), definition_id)
    return json_response({"model_definition": model_definition_json(found)})


@bp.get("/gateway/model-definitions/list")
def list_model_definitions():
    msg = message()
    with services().db.read() as conn:
        found = model_definitions.list_definitions(conn, current_project_id(), msg.string("provider") or None,
                                                   msg.string("secret_id") or None)
    return json_response({"model_definitions": [model_definition_json(d) for d in found]} if found else {})


@bp.post("/gateway/model-definitions/update")
def update_model_definition():
    msg = message()
    definition_id = msg.string("model_definition_id", required=True)
    with services().db.write() as conn:
        found = model_definitions.change(
            conn, current_project_id(), definition_id, name=msg.string("name") or None,
            secret_id=msg.string("secret_id") or None, model_name=msg.string("model_name") or None,
            provider=msg.string("provider") or None, updated_by=msg.string("updated_by") or None)
    return json_response({"model_definition": model_definition_json(found)})


@bp.delete("/gateway/model-definitions/delete")
def delete_model_definition():
    msg = message()
    definition_id = msg.string("model_definition_id", required=True)
    with services().db.write() as conn:
        model_definitions.delete_definition(conn, current_project_id(), definition_id)
    return json_response({})


# ---------------------------------------------------------------- endpoints


@bp.post("/gateway/endpoints/create")
def create_endpoint():
    msg = message()
    name = msg.string("name", required=True)
    configs = _model_configs(msg)
    with services().db.write() as conn:
        found = endpoints.create(
            conn, current_project_id(), name=name, model_configs=configs, created_by=msg.string("created_by") or None,
            routing_strategy=_enum(msg, "routing_strategy", ROUTING_STRATEGIES), fallback_config=_fallback(msg),
            experiment_id=msg.string("experiment_id") or None, usage_tracking=msg.boolean("usage_tracking", True))
    return json_response({"endpoint": endpoint_json(found)})


@bp.get("/gateway/endpoints/get")
def get_endpoint():
    msg = message()
    with services().db.read() as conn:
        found = endpoints.get(conn, current_project_id(), msg.string("endpoint_id") or None,
                              msg.string("name") or None)
    return json_response({"endpoint": endpoint_json(found)})


@bp.post("/gateway/endpoints/update")
def update_endpoint():
    msg = message()
    endpoint_id = msg.string("endpoint_id", required=True)
    with services().db.write() as conn:
        found = endpoints.change(
            conn, current_project_id(), endpoint_id, name=msg.string("name") or None,
            updated_by=msg.string("updated_by") or None,
            routing_strategy=_enum(msg, "routing_strategy", ROUTING_STRATEGIES), fallback_config=_fallback(msg),
            model_configs=_model_configs(msg) or None, experiment_id=msg.string("experiment_id") or None,
            usage_tracking=_optional_bool(msg, "usage_tracking"))
    return json_response({"endpoint": endpoint_json(found)})


@bp.delete("/gateway/endpoints/delete")
def delete_endpoint():
    msg = message()
    endpoint_id = msg.string("endpoint_id", required=True)
    with services().db.write() as conn:
        endpoints.delete_endpoint(conn, current_project_id(), endpoint_id)
    return json_response({})


@bp.get("/gateway/endpoints/list")
def list_endpoints():
    msg = message()
    with services().db.read() as conn:
        found = endpoints.list_endpoints(conn, current_project_id(), msg.string("provider") or None)
    return json_response({"endpoints": [endpoint_json(e) for e in found]} if found else {})


@bp.post("/gateway/endpoints/models/attach")
def attach_model():
    msg = message()
    endpoint_id = msg.string("endpoint_id", required=True)
    raw = msg.object("model_config")
    if raw is None:
        raise invalid("Missing value for required parameter 'model_config'.")
    with services().db.write() as conn:
        mapping = endpoints.attach(conn, current_project_id(), endpoint_id, _model_config(raw, "model_config"),
                                   msg.string("created_by") or None)
    return json_response({"mapping": mapping_json(mapping)})


@bp.post("/gateway/endpoints/models/detach")
def detach_model():
    msg = message()
    endpoint_id = msg.string("endpoint_id", required=True)
    definition_id = msg.string("model_definition_id", required=True)
    with services().db.write() as conn:
        endpoints.detach(conn, current_project_id(), endpoint_id, definition_id)
    return json_response({})


@bp.post("/gateway/endpoints/bindings/create")
def create_binding():
    msg = message()
    endpoint_id = msg.string("endpoint_id", required=True)
    resource_type = msg.string("resource_type", required=True)
    resource_id = msg.string("resource_id", required=True)
    with services().db.write() as conn:
        binding = endpoints.bind(conn, current_project_id(), endpoint_id, resource_type, resource_id,
                                 msg.string("created_by") or None)
    return json_response({"binding": binding_json(binding)})


@bp.delete("/gateway/endpoints/bindings/delete")
def delete_binding():
    msg = message()
    endpoint_id = msg.string("endpoint_id", required=True)
    resource_type = msg.string("resource_type", required=True)
    resource_id = msg.string("resource_id", required=True)
    with services().db.write() as conn:
        endpoints.unbind(conn, current_project_id(), endpoint_id, resource_type, resource_id)
    return json_response({})


@bp.get("/gateway/endpoints/bindings/list")
def list_bindings():
    msg = message()
    with services().db.read() as conn:
        found = endpoints.list_bindings(conn, current_project_id(), msg.string("endpoint_id") or None,
                                        msg.string("resource_type") or None, msg.string("resource_id") or None)
    return json_response({"bindings": [binding_json(b) for b in found]} if found else {})
