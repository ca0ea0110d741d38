"""Aliases of registered models: `models:/<name>@<alias>` names one version, moved by setting it again."""
from __future__ import annotations

from sqlalchemy import Connection, delete

from mltracker.service.db.registry_schema import registered_model_aliases
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.registry import announce
from mltracker.service.registry import validation as v
from mltracker.service.registry.registered_models import get_row
from mltracker.service.registry.versions import get_version_row


def set_alias(conn: Connection, project_id: int, name, alias, version) -> None:
    v.validate_model_name(name)
    v.validate_alias(alias)
    v.validate_alias_not_reserved(alias)
    number = v.parse_version(version)
    row = get_version_row(conn, project_id, name, number)
    upsert_rows(conn, registered_model_aliases,
                [{"registered_model_id": row.registered_model_id, "alias": alias, "version": number}],
                ["registered_model_id", "alias"], ["version"])
    announce.alias_set(conn, project_id, row.registered_model_id, name, alias, version)


def delete_alias(conn: Connection, project_id: int, name, alias) -> None:
    v.validate_model_name(name)
    v.validate_alias(alias)
    row = get_row(conn, project_id, name)
    conn.execute(
        delete(registered_model_aliases).where(
            registered_model_aliases.c.registered_model_id == row.id,
            registered_model_aliases.c.alias == alias,
        )
    )
    announce.alias_deleted(conn, project_id, row.id, name, alias)