"""Rows to MLflow's registry JSON (RegisteredModel, ModelVersion), loaded in a few queries.

Shapes follow MLflow's protos as its server writes them: int64 timestamps as numbers, versions
as strings, optional fields left out when unset, empty lists left out.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, func, select

from mltracker.service.db.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)


def _put(payload: dict, key: str, value) -> None:
    if value is not None:
        payload[key] = value


def model_version_json(row, name: str, tag_list: list[dict], alias_list: list[str]) -> dict:
    payload = {
        "name": name,
        "version": str(row.version),
        "creation_timestamp": row.creation_time,
        "last_updated_timestamp": row.last_updated_time,
    }
    _put(payload, "user_id", row.user_id)
    payload["current_stage"] = row.current_stage
    _put(payload, "description", row.description)
    payload["source"] = row.source
    payload["run_id"] = row.run_id or ""  # as mlflow server: a version made without a run has ""
    payload["status"] = row.status
    if row.status_message:
        payload["status_message"] = row.status_message
    if tag_list:
        payload["tags"] = tag_list
    _put(payload, "run_link", row.run_link)
    if alias_list:
        payload["aliases"] = alias_list
    _put(payload, "model_id", row.model_id)
    return payload


def load_versions(conn: Connection, rows: list) -> list[dict]:
    """Model versions as JSON, in the order of `rows` (model_versions rows joined with `name`)."""
    if not rows:
        return []
    model_ids = sorted({r.registered_model_id for r in rows})
    wanted = {(r.registered_model_id, r.version) for r in rows}
    tags = defaultdict(list)
    for t in conn.execute(
        select(model_version_tags)
        .where(model_version_tags.c.registered_model_id.in_(model_ids))
        .order_by(model_version_tags.c.key)
    ):
        if (t.registered_model_id, t.version) in wanted:
            tags[(t.registered_model_id, t.version)].append({"key": t.key, "value": t.value})
    aliases = defaultdict(list)
    for a in conn.execute(
        select(registered_model_aliases)
        .where(registered_model_aliases.c.registered_model_id.in_(model_ids))
        .order_by(registered_model_aliases.c.alias)
    ):
        aliases[(a.registered_model_id, a.version)].append(a.alias)
    return [
        model_version_json(r, r.name, tags[(r.registered_model_id, r.version)],
                           aliases[(r.registered_model_id, r.version)])
        for r in rows
    ]


def versions_query():
    """model_versions with the registered model's name (and project) alongside."""
    return select(model_versions, registered_models.c.name, registered_models.c.project_id).join(
        registered_models, registered_models.c.id == model_versions.c.registered_model_id
    )


def load_registered_models(conn: Connection, rows: list) -> list[dict]:
    """Registered models as JSON (with latest version per stage, tags, aliases), in order."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    latest_per_stage = (
        select(
            model_versions.c.registered_model_id,
            func.max(model_versions.c.version).label("version"),
        )
        .where(model_versions.c.registered_model_id.in_(ids))
        .group_by(model_versions.c.registered_model_id, model_versions.c.current_stage)
        .subquery()
    )
    latest_rows = conn.execute(
        versions_query()
        .join(
            latest_per_stage,
            (latest_per_stage.c.registered_model_id == model_versions.c.registered_model_id)
            & (latest_per_stage.c.version == model_versions.c.version),
        )
        .order_by(model_versions.c.registered_model_id, model_versions.c.version)
    ).all()
    latest = defaultdict(list)
    for version_json, row in zip(load_versions(conn, latest_rows), latest_rows):
        latest[row.registered_model_id].append(version_json)
    tags = defaultdict(list)
    for t in conn.execute(
        select(registered_model_tags)
        .where(registered_model_tags.c.registered_model_id.in_(ids))
        .order_by(registered_model_tags.c.key)
    ):
        tags[t.registered_model_id].append({"key": t.key, "value": t.value})
    aliases = defaultdict(list)
    for a in conn.execute(
        select(registered_model_aliases)
        .where(registered_model_aliases.c.registered_model_id.in_(ids))
        .order_by(registered_model_aliases.c.alias)
    ):
        aliases[a.registered_model_id].append({"alias": a.alias, "version": str(a.version)})
    result = []
    for r in rows:
        payload = {"name": r.name, "creation_timestamp": r.creation_time}
        if r.last_updated_time:
            payload["last_updated_timestamp"] = r.last_updated_time
        if r.description:
            payload["description"] = r.description
        if latest[r.id]:
            payload["latest_versions"] = latest[r.id]
        if tags[r.id]:
            payload["tags"] = tags[r.id]
        if aliases[r.id]:
            payload["aliases"] = aliases[r.id]
        result.append(payload)
    return result
