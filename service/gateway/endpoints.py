"""Gateway endpoints of a project: a name, the model definitions it routes to (primary and fallback),
and what it is bound to. The configuration is kept as MLflow's store keeps it; this server does not
serve invocations, so no usage-tracking experiment is created for an endpoint."""
from __future__ import annotations

import json
import uuid
from collections import defaultdict

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltracker.service.db.gateway_schema import (
    gateway_endpoint_bindings as _bindings, gateway_endpoint_models as _models, gateway_endpoints as _endpoints,
    gateway_model_definitions as _defs, gateway_secrets as _secrets,
)
from mltracker.service.errors import already_exists, invalid, not_found
from mltracker.service.gateway import model_definitions
from mltracker.service.gateway import validation as v
from mltracker.service.gateway.records import Binding, Endpoint, FallbackConfig, ModelConfig, ModelMapping
from mltracker.service.tracking.clock import now_ms

MAX_MODELS = 100


def _not_found(endpoint_id: str):
    return not_found(f"GatewayEndpoint not found (endpoint_id='{endpoint_id[:v.MAX_NAME]}')")


def _mappings(conn: Connection, endpoint_ids: list[str]) -> dict[str, list[ModelMapping]]:
    found: dict[str, list[ModelMapping]] = defaultdict(list)
    if not endpoint_ids:
        return found
    rows = conn.execute(
        select(_models.c.id.label("mapping_id"), _models.c.endpoint_id, _models.c.linkage_type, _models.c.weight,
               _models.c.fallback_order, _models.c.created_at.label("mapped_at"),
               _models.c.created_by.label("mapped_by"), _defs, _secrets.c.name.label("secret_name"))
        .select_from(_models.join(_defs, _defs.c.id == _models.c.model_definition_id)
                     .outerjoin(_secrets, _secrets.c.id == _defs.c.secret_id))
        .where(_models.c.endpoint_id.in_(endpoint_ids))
        .order_by(_models.c.endpoint_id, _models.c.created_at, _models.c.id)
    )
    for r in rows:
        found[r.endpoint_id].append(ModelMapping(r.mapping_id, r.endpoint_id, model_definitions.definition(r),
                                                 r.linkage_type, r.weight, r.fallback_order, r.mapped_at,
                                                 r.mapped_by))
    return found


def _endpoints_of(conn: Connection, rows) -> list[Endpoint]:
    mappings = _mappings(conn, [r.id for r in rows])
    result = []
    for r in rows:
        fallback = FallbackConfig(**json.loads(r.fallback_config)) if r.fallback_config else None
        result.append(Endpoint(r.id, r.name, r.created_at, r.last_updated_at, r.created_by, r.last_updated_by,
                               r.routing_strategy, fallback, r.experiment_id, r.usage_tracking,
                               mappings[r.id]))
    return result


def _row(conn: Connection, project_id: int, endpoint_id: str | None = None, name: str | None = None):
    if bool(endpoint_id) == bool(name):
        raise invalid("Exactly one of endpoint_id or name must be provided")
    where = _endpoints.c.id == endpoint_id[:40] if endpoint_id else _endpoints.c.name == name[:v.MAX_NAME]
    row = conn.execute(select(_endpoints).where(where, _endpoints.c.project_id == project_id)).first()
    if row is None:
        raise _not_found(endpoint_id) if endpoint_id else not_found(f"GatewayEndpoint not found (name='{name}')")
    return row


def _check_configs(conn: Connection, project_id: int, configs: list[ModelConfig]) -> None:
    if len(configs) > MAX_MODELS:
        raise invalid(f"An endpoint may route to at most {MAX_MODELS} models.")
    wanted = {c.model_definition_id for c in configs}
    if missing := wanted - model_definitions.existing_ids(conn, project_id, wanted):
        raise not_found(f"Model definitions not found: {', '.join(sorted(m[:v.MAX_NAME] for m in missing))}")


def _insert_mappings(conn: Connection, endpoint_id: str, configs: list[ModelConfig], user: str | None,
                     now: int) -> list[str]:
    ids = [f"m-{uuid.uuid4().hex}" for _ in configs]
    try:
        with conn.begin_nested():
            conn.execute(insert(_models), [
                {"id": mapping_id, "endpoint_id": endpoint_id, "model_definition_id": c.model_definition_id,
                 "linkage_type": c.linkage_type, "weight": c.weight, "fallback_order": c.fallback_order,
                 "created_at": now, "created_by": user}
                for mapping_id, c in zip(ids, configs)
            ])
    except IntegrityError:
        raise already_exists("A model definition is attached to this endpoint twice with the same linkage "
                             "type.") from None
    return ids


def _fallback_json(fallback: FallbackConfig | None) -> str | None:
    return json.dumps({"strategy": fallback.strategy, "max_attempts": fallback.max_attempts}) if fallback else None


def create(conn: Connection, project_id: int, *, name: str, model_configs: list[ModelConfig],
           created_by: str | None = None, routing_strategy: str | None = None,
           fallback_config: FallbackConfig | None = None, experiment_id: str | None = None,
           usage_tracking: bool = True) -> Endpoint:
    v.check_endpoint_name(name)
    v.check_length("created_by", created_by, v.MAX_USER)
    v.check_length("experiment_id", experiment_id, 40)
    if not model_configs:
        raise invalid("Endpoint must have at least one model configuration")
    _check_configs(conn, project_id, model_configs)
    endpoint_id, now = f"e-{uuid.uuid4().hex}", now_ms()
    try:
        with conn.begin_nested():
            conn.execute(insert(_endpoints).values(
                id=endpoint_id, project_id=project_id, name=name, routing_strategy=routing_strategy,
                fallback_config=_fallback_json(fallback_config), experiment_id=experiment_id,
                usage_tracking=usage_tracking, created_at=now, last_updated_at=now, created_by=created_by,
                last_updated_by=created_by,
            ))
    except IntegrityError:
        raise already_exists(f"Endpoint with name '{name}' already exists") from None
    _insert_mappings(conn, endpoint_id, model_configs, created_by, now)
    return get(conn, project_id, endpoint_id)


def get(conn: Connection, project_id: int, endpoint_id: str | None = None, name: str | None = None) -> Endpoint:
    return _endpoints_of(conn, [_row(conn, project_id, endpoint_id, name)])[0]


def list_endpoints(conn: Connection, project_id: int, provider: str | None = None) -> list[Endpoint]:
    query = select(_endpoints).where(_endpoints.c.project_id == project_id)
    if provider:
        query = query.where(_endpoints.c.id.in_(
            select(_models.c.endpoint_id).join(_defs, _defs.c.id == _models.c.model_definition_id)
            .where(_defs.c.provider == provider)))
    return _endpoints_of(conn, conn.execute(query.order_by(_endpoints.c.created_at, _endpoints.c.id)).all())


def change(conn: Connection, project_id: int, endpoint_id: str, *, name: str | None = None,
           updated_by: str | None = None, routing_strategy: str | None = None,
           fallback_config: FallbackConfig | None = None, model_configs: list[ModelConfig] | None = None,
           experiment_id: str | None = None, usage_tracking: bool | None = None) -> Endpoint:
    """The given fields (None: unchanged); model_configs replaces every model of the endpoint."""
    current = _row(conn, project_id, endpoint_id)
    v.check_length("updated_by", updated_by, v.MAX_USER)
    v.check_length("experiment_id", experiment_id, 40)
    now = max(now_ms(), current.last_updated_at + 1)
    values: dict = {"last_updated_at": now, "last_updated_by": updated_by}
    if name:
        v.check_endpoint_name(name)
        values["name"] = name
    for column, value in (("routing_strategy", routing_strategy), ("experiment_id", experiment_id),
                          ("usage_tracking", usage_tracking)):
        if value is not None:
            values[column] = value
    if fallback_config is not None:
        values["fallback_config"] = _fallback_json(fallback_config)
    try:
        with conn.begin_nested():
            conn.execute(update(_endpoints).where(_endpoints.c.id == current.id).values(**values))
    except IntegrityError:
        raise already_exists(f"Endpoint with name '{name}' already exists") from None
    if model_configs:
        _check_configs(conn, project_id, model_configs)
        conn.execute(delete(_models).where(_models.c.endpoint_id == current.id))
        _insert_mappings(conn, current.id, model_configs, updated_by, now)
    return get(conn, project_id, current.id)


def delete_endpoint(conn: Connection, project_id: int, endpoint_id: str) -> None:
    current = _row(conn, project_id, endpoint_id)
    conn.execute(delete(_bindings).where(_bindings.c.endpoint_id == current.id))
    conn.execute(delete(_models).where(_models.c.endpoint_id == current.id))
    conn.execute(delete(_endpoints).where(_endpoints.c.id == current.id))


def attach(conn: Connection, project_id: int, endpoint_id: str, config: ModelConfig,
           created_by: str | None = None) -> ModelMapping:
    current = _row(conn, project_id, endpoint_id)
    v.check_length("created_by", created_by, v.MAX_USER)
    _check_configs(conn, project_id, [config])
    try:
        mapping_id = _insert_mappings(conn, current.id, [config], created_by, now_ms())[0]
    except Exception as exc:
        if getattr(exc, "error_code", None) != "RESOURCE_ALREADY_EXISTS":
            raise
        raise already_exists(f"Model definition '{config.model_definition_id}' is already attached to endpoint "
                             f"'{current.id}'") from None
    return next(m for m in _mappings(conn, [current.id])[current.id] if m.id == mapping_id)


def detach(conn: Connection, project_id: int, endpoint_id: str, model_definition_id: str) -> None:
    current = _row(conn, project_id, endpoint_id)
    gone = conn.execute(delete(_models).where(_models.c.endpoint_id == current.id,
                                              _models.c.model_definition_id == model_definition_id[:40]))
    if not gone.rowcount:
        raise not_found(f"Model definition '{model_definition_id[:v.MAX_NAME]}' is not attached to endpoint "
                        f"'{current.id}'")


def bind(conn: Connection, project_id: int, endpoint_id: str, resource_type: str, resource_id: str,
         created_by: str | None = None) -> Binding:
    current = _row(conn, project_id, endpoint_id)
    v.check_name("resource_type", resource_type)
    v.check_length("resource_type", resource_type, 50)
    v.check_name("resource_id", resource_id)
    v.check_length("created_by", created_by, v.MAX_USER)
    now = now_ms()
    try:
        with conn.begin_nested():
            conn.execute(insert(_bindings).values(
                endpoint_id=current.id, resource_type=resource_type, resource_id=resource_id, created_at=now,
                last_updated_at=now, created_by=created_by, last_updated_by=created_by))
    except IntegrityError:
        raise already_exists(f"Endpoint '{current.id}' is already bound to {resource_type} '{resource_id}'") from None
    return Binding(current.id, resource_type, resource_id, now, now, created_by, created_by)


def unbind(conn: Connection, project_id: int, endpoint_id: str, resource_type: str, resource_id: str) -> None:
    current = _row(conn, project_id, endpoint_id)
    gone = conn.execute(delete(_bindings).where(_bindings.c.endpoint_id == current.id,
                                                _bindings.c.resource_type == resource_type[:50],
                                                _bindings.c.resource_id == resource_id[:v.MAX_NAME]))
    if not gone.rowcount:
        raise not_found(f"GatewayEndpointBinding not found (endpoint_id='{current.id}', "
                        f"resource_type='{resource_type[:50]}', resource_id='{resource_id[:v.MAX_NAME]}')")


def list_bindings(conn: Connection, project_id: int, endpoint_id: str | None = None,
                  resource_type: str | None = None, resource_id: str | None = None) -> list[Binding]:
    query = (select(_bindings).join(_endpoints, _endpoints.c.id == _bindings.c.endpoint_id)
             .where(_endpoints.c.project_id == project_id))
    for column, value in ((_bindings.c.endpoint_id, endpoint_id), (_bindings.c.resource_type, resource_type),
                          (_bindings.c.resource_id, resource_id)):
        if value:
            query = query.where(column == value)
    rows = conn.execute(query.order_by(_bindings.c.created_at, _bindings.c.endpoint_id, _bindings.c.resource_type,
                                       _bindings.c.resource_id))
    return [Binding(r.endpoint_id, r.resource_type, r.resource_id, r.created_at, r.last_updated_at, r.created_by,
                    r.last_updated_by) for r in rows]
