"""Registered models of a project: create, read, rename, describe, delete, tags, aliases."""
from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltracker.service.db.registry_schema import (
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.errors import MlflowError, already_exists, not_found
from mltracker.service.registry import announce
from mltracker.service.registry import validation as v
from mltracker.service.tracking.clock import now_ms


def get_row(conn: Connection, project_id: int, name, *, for_update: bool = False):
    v.validate_model_name(name)
    query = select(registered_models).where(
        registered_models.c.project_id == project_id, registered_models.c.name == name
    )
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise not_found(f"Registered Model with name={name} not found")
    return row


def create(conn: Connection, project_id: int, name, tags: list[dict] | None = None, description=None):
    v.validate_model_name(name)
    tags = tags or []
    for tag in tags:
        v.validate_registered_model_tag(tag.get("key"), tag.get("value"))
    now = now_ms()
    try:
        with conn.begin_nested():
            model_id = conn.execute(
                insert(registered_models).values(
                    project_id=project_id, name=name, creation_time=now, last_updated_time=now,
                    description=description, last_version=0,
                )
            ).inserted_primary_key[0]
    except IntegrityError:
        raise already_exists(f"Registered Model (name={name}) already exists.") from None
    latest = {t["key"]: t.get("value") or "" for t in tags}
    upsert_rows(conn, registered_model_tags,
                [{"registered_model_id": model_id, "key": k, "value": val} for k, val in latest.items()],
                ["registered_model_id", "key"], ["value"])
    announce.registered_model_created(conn, project_id, name, tags, description)
    return get_row(conn, project_id, name)


def touch(conn: Connection, model_id: int, when: int | None = None) -> None:
    conn.execute(
        update(registered_models).where(registered_models.c.id == model_id)
        .values(last_updated_time=when or now_ms())
    )


def update_description(conn: Connection, project_id: int, name, description):
    row = get_row(conn, project_id, name)
    conn.execute(
        update(registered_models).where(registered_models.c.id == row.id)
        .values(description=description, last_updated_time=now_ms())
    )
    return get_row(conn, project_id, name)


def rename(conn: Connection, project_id: int, name, new_name):
    v.validate_new_name(new_name)
    row = get_row(conn, project_id, name)
    now = now_ms()
    try:
        with conn.begin_nested():
            conn.execute(
                update(registered_models).where(registered_models.c.id == row.id)
                .values(name=new_name, last_updated_time=now)
            )
    except IntegrityError:
        raise already_exists(f"Registered Model (name={new_name}) already exists.") from None
    # MLflow bumps every version's last_updated_time on rename.
    conn.execute(
        update(model_versions).where(model_versions.c.registered_model_id == row.id)
        .values(last_updated_time=now)
    )
    return get_row(conn, project_id, new_name)


def delete_model(conn: Connection, project_id: int, name) -> None:
    row = get_row(conn, project_id, name)
    conn.execute(delete(registered_models).where(registered_models.c.id == row.id))


def set_tag(conn: Connection, project_id: int, name, key, value) -> None:
    v.validate_model_name(name)
    v.validate_registered_model_tag(key, value)
    row = get_row(conn, project_id, name)
    upsert_rows(conn, registered_model_tags,
                [{"registered_model_id": row.id, "key": key, "value": value or ""}],
                ["registered_model_id", "key"], ["value"])
    announce.model_tag_changed(conn, project_id, row.id, name, key, value)


def delete_tag(conn: Connection, project_id: int, name, key) -> None:
    v.validate_model_name(name)
    v.validate_tag_key(key)
    row = get_row(conn, project_id, name)
    conn.execute(
        delete(registered_model_tags).where(
            registered_model_tags.c.registered_model_id == row.id, registered_model_tags.c.key == key
        )
    )
    announce.model_tag_changed(conn, project_id, row.id, name, key, None, deleted=True)





def alias_version(conn: Connection, project_id: int, name, alias) -> int:
    """The version an alias points to; "latest" (any case) is the highest live version."""
    v.validate_model_name(name)
    v.validate_alias(alias)
    row = get_row(conn, project_id, name)
    if alias.lower() == v.LATEST_ALIAS:
        latest = conn.execute(
            select(model_versions.c.version)
            .where(model_versions.c.registered_model_id == row.id)
            .order_by(model_versions.c.version.desc()).limit(1)
        ).scalar()
        if latest is None:
            raise not_found(f"Latest version not found for model {name}.")
        return latest
    found = conn.execute(
        select(registered_model_aliases.c.version).where(
            registered_model_aliases.c.registered_model_id == row.id,
            registered_model_aliases.c.alias == alias,
        )
    ).scalar()
    if found is None:
        raise MlflowError(f"Registered model alias {alias} not found.", "INVALID_PARAMETER_VALUE")
    return found

