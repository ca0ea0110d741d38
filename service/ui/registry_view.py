"""Model registry reads for the pages (models, versions, aliases, source candidates, a candidate's
logged models) and the call into the promote service. One query per table, never per row."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from mltracker.service.db.registry_schema import (
    logged_models,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_models,
)
from mltracker.service.db.schema import run_models, runs, tags
from mltracker.service.logged_models.status import FAILED, PENDING, READY
from mltracker.service.registry.promote import promote as promote_candidate
from mltracker.service.tracking.experiments import ACTIVE

LOGGED_MODEL_STATUS = {PENDING: "pending", READY: "ready", FAILED: "failed"}


@dataclass
class VersionView:
    model: str
    version: int
    creation_time: int
    status: str
    run_id: str | None
    run_name: str | None = None
    user_id: str | None = None
    description: str | None = None
    aliases: list[str] = field(default_factory=list)


@dataclass
class ModelView:
    name: str
    description: str | None
    creation_time: int
    last_updated_time: int
    versions: int = 0
    latest: int | None = None
    aliases: dict[str, int] = field(default_factory=dict)


def models_of_project(conn: Connection, project_id: int) -> list[ModelView]:
    counts = (
        select(model_versions.c.registered_model_id, func.count().label("n"), func.max(model_versions.c.version).label("latest"))
        .group_by(model_versions.c.registered_model_id).subquery()
    )
    rows = conn.execute(
        select(registered_models, counts.c.n, counts.c.latest)
        .select_from(registered_models.outerjoin(counts, counts.c.registered_model_id == registered_models.c.id))
        .where(registered_models.c.project_id == project_id)
        .order_by(registered_models.c.last_updated_time.desc(), registered_models.c.name)
    ).all()
    aliases = _aliases(conn, [r.id for r in rows])
    return [
        ModelView(r.name, r.description, r.creation_time, r.last_updated_time, r.n or 0, r.latest,
                  {a: v for a, v in aliases.get(r.id, [])})
        for r in rows
    ]


def model_names(conn: Connection, project_id: int) -> list[str]:
    return list(conn.execute(
        select(registered_models.c.name).where(registered_models.c.project_id == project_id)
        .order_by(registered_models.c.name)
    ).scalars())


def _aliases(conn: Connection, model_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    result: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if model_ids:
        for row in conn.execute(
            select(registered_model_aliases).where(registered_model_aliases.c.registered_model_id.in_(model_ids))
            .order_by(registered_model_aliases.c.alias)
        ):
            result[row.registered_model_id].append((row.alias, row.version))
    return result


def model_detail(conn: Connection, project_id: int, name: str) -> tuple[ModelView, list[VersionView]] | None:
    row = conn.execute(
        select(registered_models).where(registered_models.c.project_id == project_id, registered_models.c.name == name)
    ).first()
    if row is None:
        return None
    alias_pairs = _aliases(conn, [row.id]).get(row.id, [])
    by_version: dict[int, list[str]] = defaultdict(list)
    for alias, version in alias_pairs:
        by_version[version].append(alias)
    version_rows = conn.execute(
        select(model_versions, runs.c.name.label("run_name"))
        .select_from(model_versions.outerjoin(runs, runs.c.run_uuid == model_versions.c.run_id))
        .where(model_versions.c.registered_model_id == row.id)
        .order_by(model_versions.c.version.desc())
    ).all()
    versions = [
        VersionView(name, v.version, v.creation_time, v.status, v.run_id, v.run_name, v.user_id, v.description,
                    by_version.get(v.version, []))
        for v in version_rows
    ]
    model = ModelView(row.name, row.description, row.creation_time, row.last_updated_time, len(versions),
                      versions[0].version if versions else None, dict(alias_pairs))
    return model, versions


def versions_of_runs(conn: Connection, project_id: int, run_ids: list[str]) -> dict[str, list[VersionView]]:
    """The model versions each candidate became."""
    result: dict[str, list[VersionView]] = defaultdict(list)
    if not run_ids:
        return result
    rows = conn.execute(
        select(model_versions, registered_models.c.name.label("model_name"))
        .join(registered_models, registered_models.c.id == model_versions.c.registered_model_id)
        .where(model_versions.c.run_id.in_(run_ids), registered_models.c.project_id == project_id)
        .order_by(registered_models.c.name, model_versions.c.version)
    ).all()
    aliases = _aliases(conn, list({r.registered_model_id for r in rows}))
    for r in rows:
        names = [a for a, v in aliases.get(r.registered_model_id, []) if v == r.version]
        result[r.run_id].append(VersionView(r.model_name, r.version, r.creation_time, r.status, r.run_id,
                                            None, r.user_id, r.description, names))
    return result


def promote(project_id: int, run_id: str, model_name: str, alias: str | None, actor: str,
            source: str | None) -> int:
    """Promote through the registry's promote service; returns the new version number."""
    from mltracker.service.context import services

    with services().db.write() as conn:
        promotion = promote_candidate(conn, services().artifacts, project_id, run_id, model_name, alias,
                                      actor=actor, source=source)
    return promotion.version


@dataclass
class LoggedModelView:
    model_id: str
    name: str
    status: str
    model_type: str | None
    creation_time: int
    step: int


def logged_models_of_run(conn: Connection, project_id: int, run_id: str) -> list[LoggedModelView]:
    """The models a candidate logged (its output logged models), latest step first."""
    rows = conn.execute(
        select(logged_models, run_models.c.step)
        .join(run_models, run_models.c.model_id == logged_models.c.model_id)
        .where(run_models.c.run_uuid == run_id, run_models.c.direction == "output",
               logged_models.c.project_id == project_id, logged_models.c.lifecycle_stage == ACTIVE)
        .order_by(run_models.c.step.desc(), logged_models.c.creation_timestamp_ms.desc())
    ).all()
    return [
        LoggedModelView(r.model_id, r.name, LOGGED_MODEL_STATUS.get(r.status, "unknown"), r.model_type,
                        r.creation_timestamp_ms, r.step)
        for r in rows
    ]


@dataclass
class VersionDetail:
    model: str
    version: int
    status: str
    status_message: str | None
    source: str
    storage_location: str
    run_id: str | None
    run_name: str | None
    experiment_id: int | None
    model_id: str | None
    description: str | None
    user_id: str | None
    creation_time: int
    last_updated_time: int
    aliases: list[str]
    tags: dict[str, str]
    candidate_tags: dict[str, str]


def version_detail(conn: Connection, project_id: int, name: str, version: int) -> VersionDetail | None:
    row = conn.execute(
        select(model_versions, registered_models.c.name.label("model_name"),
               runs.c.name.label("run_name"), runs.c.experiment_id)
        .join(registered_models, registered_models.c.id == model_versions.c.registered_model_id)
        .outerjoin(runs, (runs.c.run_uuid == model_versions.c.run_id) & (runs.c.project_id == project_id))
        .where(registered_models.c.project_id == project_id, registered_models.c.name == name,
               model_versions.c.version == version)
    ).first()
    if row is None:
        return None
    aliases = [a for a, v in _aliases(conn, [row.registered_model_id]).get(row.registered_model_id, []) if v == version]
    version_tags = dict(conn.execute(
        select(model_version_tags.c.key, model_version_tags.c.value)
        .where(model_version_tags.c.registered_model_id == row.registered_model_id,
               model_version_tags.c.version == version)
        .order_by(model_version_tags.c.key)
    ).all())
    candidate_tags = {}
    if row.experiment_id is not None:
        candidate_tags = dict(conn.execute(
            select(tags.c.key, tags.c.value).where(tags.c.run_uuid == row.run_id, tags.c.key.like("gitlab.%"))
        ).all())
    return VersionDetail(
        row.model_name, row.version, row.status, row.status_message, row.source, row.storage_location,
        row.run_id, row.run_name, row.experiment_id, row.model_id, row.description, row.user_id,
        row.creation_time, row.last_updated_time, aliases, version_tags, candidate_tags,
    )
