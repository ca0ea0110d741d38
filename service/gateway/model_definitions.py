"""Gateway model definitions of a project: a provider's model and the secret it authenticates with."""
from __future__ import annotations

import uuid

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltracker.service.db.gateway_schema import gateway_endpoint_models, gateway_model_definitions, gateway_secrets
from mltracker.service.errors import MlflowError, already_exists, not_found
from mltracker.service.gateway import secrets
from mltracker.service.gateway import validation as v
from mltracker.service.gateway.records import ModelDefinition
from mltracker.service.tracking.clock import now_ms

_defs, _secrets = gateway_model_definitions, gateway_secrets


def _query():
    return (select(_defs, _secrets.c.name.label("secret_name"))
            .select_from(_defs.outerjoin(_secrets, _secrets.c.id == _defs.c.secret_id)))


def definition(row) -> ModelDefinition:
    return ModelDefinition(row.id, row.name, row.secret_id, row.secret_name, row.provider, row.model_name,
                           row.created_at, row.last_updated_at, row.created_by, row.last_updated_by)


def _check(name: str | None, provider: str | None, model_name: str | None, user: str | None) -> None:
    if name is not None:
        v.check_name("name", name)
    v.check_length("provider", provider, v.MAX_PROVIDER)
    v.check_length("model_name", model_name, v.MAX_NAME)
    v.check_length("created_by", user, v.MAX_USER)


def create(conn: Connection, project_id: int, *, name: str, secret_id: str, provider: str, model_name: str,
           created_by: str | None = None) -> ModelDefinition:
    _check(name, provider, model_name, created_by)
    secrets.get(conn, project_id, secret_id)
    definition_id, now = f"d-{uuid.uuid4().hex}", now_ms()
    try:
        with conn.begin_nested():
            conn.execute(insert(_defs).values(
                id=definition_id, project_id=project_id, name=name, secret_id=secret_id, provider=provider,
                model_name=model_name, created_at=now, last_updated_at=now, created_by=created_by,
                last_updated_by=created_by,
            ))
    except IntegrityError:
        raise already_exists(f"Model definition with name '{name}' already exists") from None
    return get(conn, project_id, definition_id)


def get(conn: Connection, project_id: int, definition_id: str) -> ModelDefinition:
    row = conn.execute(_query().where(_defs.c.id == definition_id[:40], _defs.c.project_id == project_id)).first()
    if row is None:
        raise not_found(f"GatewayModelDefinition not found (model_definition_id='{definition_id[:v.MAX_NAME]}')")
    return definition(row)


def existing_ids(conn: Connection, project_id: int, definition_ids: set[str]) -> set[str]:
    rows = conn.execute(select(_defs.c.id).where(_defs.c.project_id == project_id,
                                                 _defs.c.id.in_([i[:40] for i in definition_ids])))
    return {r.id for r in rows}


def list_definitions(conn: Connection, project_id: int, provider: str | None = None,
                     secret_id: str | None = None) -> list[ModelDefinition]:
    query = _query().where(_defs.c.project_id == project_id)
    if provider:
        query = query.where(_defs.c.provider == provider)
    if secret_id:
        query = query.where(_defs.c.secret_id == secret_id)
    return [definition(r) for r in conn.execute(query.order_by(_defs.c.created_at, _defs.c.id))]


def change(conn: Connection, project_id: int, definition_id: str, *, name: str | None = None,
           secret_id: str | None = None, model_name: str | None = None, provider: str | None = None,
           updated_by: str | None = None) -> ModelDefinition:
    current = get(conn, project_id, definition_id)
    _check(name, provider, model_name, updated_by)
    values: dict = {"last_updated_at": max(now_ms(), current.last_updated_at + 1)}
    for column, value in (("name", name), ("model_name", model_name), ("provider", provider),
                          ("last_updated_by", updated_by)):
        if value:
            values[column] = value
    if secret_id:
        values["secret_id"] = secrets.get(conn, project_id, secret_id).id
    try:
        with conn.begin_nested():
            conn.execute(update(_defs).where(_defs.c.id == current.id).values(**values))
    except IntegrityError:
        raise already_exists(f"Model definition with name '{name}' already exists") from None
    return get(conn, project_id, current.id)


def delete_definition(conn: Connection, project_id: int, definition_id: str) -> None:
    current = get(conn, project_id, definition_id)
    in_use = conn.execute(select(gateway_endpoint_models.c.id)
                          .where(gateway_endpoint_models.c.model_definition_id == current.id).limit(1)).first()
    if in_use is not None:
        raise MlflowError("Cannot delete model definition that is currently in use by endpoints. "
                          "Detach it from all endpoints first.", "INVALID_STATE")
    conn.execute(delete(_defs).where(_defs.c.id == current.id))
