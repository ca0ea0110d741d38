"""Gateway secrets of a project: provider credentials sealed at rest (SecretBox), shown only masked.
A secret of another project is "not found", exactly like one that does not exist."""
from __future__ import annotations

import json
import uuid

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltracker.service.db.gateway_schema import gateway_secrets
from mltracker.service.errors import already_exists, not_found
from mltracker.service.gateway import validation as v
from mltracker.service.gateway.records import SecretInfo
from mltracker.service.registry_webhooks.secrets import SecretBox
from mltracker.service.registry_webhooks.validation import UrlRules
from mltracker.service.tracking.clock import now_ms

PURPOSE = b"mltracker gateway secrets"


def mask(value: str) -> str:
    """MLflow's mask: the first 3 and last 4 characters; "***" for anything shorter than 8."""
    return "***" if len(value) < 8 else f"{value[:3]}...{value[-4:]}"


def _info(row) -> SecretInfo:
    return SecretInfo(row.id, row.name, json.loads(row.masked_values), row.provider,
                      json.loads(row.auth_config) if row.auth_config else None, row.created_at,
                      row.last_updated_at, row.created_by, row.last_updated_by)


def _row(conn: Connection, project_id: int, secret_id: str):
    row = conn.execute(select(gateway_secrets).where(
        gateway_secrets.c.id == secret_id[:40], gateway_secrets.c.project_id == project_id)).first()
    if row is None:
        raise not_found(f"GatewaySecret not found (secret_id='{secret_id[:v.MAX_NAME]}')")
    return row


def _sealed(box: SecretBox, secret_value: dict[str, str]) -> tuple[str, str]:
    v.check_secret_value(secret_value)
    return box.seal(json.dumps(secret_value)), json.dumps({k: mask(x) for k, x in secret_value.items()})


def create(conn: Connection, box: SecretBox, rules: UrlRules, project_id: int, *, name: str,
           secret_value: dict[str, str], provider: str | None = None, auth_config: dict[str, str] | None = None,
           created_by: str | None = None) -> SecretInfo:
    v.check_name("secret_name", name)
    v.check_length("provider", provider, v.MAX_PROVIDER)
    v.check_length("created_by", created_by, v.MAX_USER)
    sealed, masked = _sealed(box, secret_value)
    config = v.normalized_auth_config(auth_config, rules) if auth_config else None
    secret_id, now = f"s-{uuid.uuid4().hex}", now_ms()
    try:
        with conn.begin_nested():
            conn.execute(insert(gateway_secrets).values(
                id=secret_id, project_id=project_id, name=name, sealed_value=sealed, masked_values=masked,
                provider=provider or None, auth_config=json.dumps(config) if config else None, created_at=now,
                last_updated_at=now, created_by=created_by, last_updated_by=created_by,
            ))
    except IntegrityError:
        raise already_exists(f"Secret with name '{name}' already exists") from None
    return get(conn, project_id, secret_id)


def get(conn: Connection, project_id: int, secret_id: str) -> SecretInfo:
    return _info(_row(conn, project_id, secret_id))


def list_infos(conn: Connection, project_id: int, provider: str | None = None) -> list[SecretInfo]:
    query = select(gateway_secrets).where(gateway_secrets.c.project_id == project_id)
    if provider:
        query = query.where(gateway_secrets.c.provider == provider)
    return [_info(r) for r in conn.execute(query.order_by(gateway_secrets.c.created_at, gateway_secrets.c.id))]


def change(conn: Connection, box: SecretBox, rules: UrlRules, project_id: int, secret_id: str, *,
           secret_value: dict[str, str] | None = None, auth_config: dict[str, str] | None = None,
           updated_by: str | None = None) -> SecretInfo:
    """New values (a key rotation) and/or a new auth_config (an empty one clears it); None: unchanged."""
    current = _row(conn, project_id, secret_id)
    v.check_length("updated_by", updated_by, v.MAX_USER)
    values: dict = {"last_updated_by": updated_by, "last_updated_at": max(now_ms(), current.last_updated_at + 1)}
    if secret_value:
        values["sealed_value"], values["masked_values"] = _sealed(box, secret_value)
    if auth_config is not None:
        config = v.normalized_auth_config(auth_config, rules) if auth_config else None
        values["auth_config"] = json.dumps(config) if config else None
    conn.execute(update(gateway_secrets).where(gateway_secrets.c.id == current.id).values(**values))
    return get(conn, project_id, current.id)


def delete_secret(conn: Connection, project_id: int, secret_id: str) -> None:
    """Model definitions that used it stay, without a secret (the foreign key sets it to NULL)."""
    current = _row(conn, project_id, secret_id)
    conn.execute(delete(gateway_secrets).where(gateway_secrets.c.id == current.id))

