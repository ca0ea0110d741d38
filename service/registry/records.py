"""Registered models and model versions as the domain reads them: typed values, loaded in a few
queries (never one per row). Only service/api turns them into MLflow's registry JSON
(service/api/registry_json.py)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from mltracker.service.db.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    creation_time: int
    last_updated_time: int | None
    user_id: str | None
    current_stage: str
    description: str | None
    source: str
    run_id: str | None
    status: str
    status_message: str | None = None
    run_link: str | None = None
    model_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # by key
    aliases: tuple[str, ...] = ()  # by name
    storage_location: str | None = None  # where the registry keeps its copy (not part of MLflow's JSON)


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    creation_time: int
    last_updated_time: int | None
    description: str | None
    latest_versions: tuple[ModelVersion, ...] = ()  # the newest version of each stage, by version
    tags: dict[str, str] = field(default_factory=dict)  # by key
    aliases: tuple[tuple[str, int], ...] = ()  # (alias, version), by alias


def _version(row, name: str, tags: dict[str, str], aliases: list[str]) -> ModelVersion:
    return ModelVersion(
        name, row.version, row.creation_time, row.last_updated_time, row.user_id, row.current_stage,
        row.description, row.source, row.run_id, row.status, row.status_message, row.run_link, row.model_id,
        tags, tuple(aliases), row.storage_location,
    )


def load_aliases(conn: Connection, model_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """(alias, version) pairs of each registered model, by alias: one query."""
    aliases: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if model_ids:
        for a in conn.execute(
            select(registered_model_aliases)
            .where(registered_model_aliases.c.registered_model_id.in_(model_ids))
            .order_by(registered_model_aliases.c.alias)
        ):
            aliases[a.registered_model_id].append((a.alias, a.version))
    return aliases


def load_versions(conn: Connection, rows: list) -> list[ModelVersion]:
    """Model versions in the order of `rows` (model_versions rows joined with `name`)."""
    if not rows:
        return []
    model_ids = sorted({r.registered_model_id for r in rows})
    wanted = {(r.registered_model_id, r.version) for r in rows}
    tags: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    for t in conn.execute(
        select(model_version_tags)
        .where(model_version_tags.c.registered_model_id.in_(model_ids))
        .order_by(model_version_tags.c.key)
    ):
        if (t.registered_model_id, t.version) in wanted:
            tags[(t.registered_model_id, t.version)][t.key] = t.value
    aliases = defaultdict(list)
    for model_id, pairs in load_aliases(conn, model_ids).items():
        for alias, version in pairs:
            aliases[(model_id, version)].append(alias)
    return [
        _version(r, r.name, tags[(r.registered_model_id, r.version)], aliases[(r.registered_model_id, r.version)])
        for r in rows
    ]


def versions_query():
    """model_versions with the registered model's name (and project) alongside."""
    return select(model_versions, registered_models.c.name, registered_models.c.project_id).join(
        registered_models, registered_models.c.id == model_versions.c.registered_model_id
    )


def load_registered_models(conn: Connection, rows: list) -> list[RegisteredModel]:
    """Registered models (with the latest version per stage, tags, aliases), in the order of `rows`."""
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
    for version, row in zip(load_versions(conn, latest_rows), latest_rows):
        latest[row.registered_model_id].append(version)
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for t in conn.execute(
        select(registered_model_tags)
        .where(registered_model_tags.c.registered_model_id.in_(ids))
        .order_by(registered_model_tags.c.key)
    ):
        tags[t.registered_model_id][t.key] = t.value
    aliases = load_aliases(conn, ids)
    return [
        RegisteredModel(r.name, r.creation_time, r.last_updated_time, r.description, tuple(latest[r.id]),
                        tags[r.id], tuple(aliases[r.id]))
        for r in rows
    ]
