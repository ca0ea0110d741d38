"""Model registry reads for the pages (models, a model's versions, a version, a candidate's versions
and logged models) and the call into the promote service. Model versions are the registry's typed read
model (`registry/records.py`), loaded as the API loads them; one query per table, never per row."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from mltracker.service.db.registry_schema import logged_models, model_versions, registered_models
from mltracker.service.db.schema import run_models, runs, tags
from mltracker.service.logged_models.status import FAILED, PENDING, READY
from mltracker.service.registry.promote import promote as promote_candidate
from mltracker.service.registry.records import (
    ModelVersion,
    load_aliases,
    load_versions,
    versions_query,
)
from mltracker.service.tracking.experiments import ACTIVE

LOGGED_MODEL_STATUS = {PENDING: "pending", READY: "ready", FAILED: "failed"}


@dataclass(frozen=True)
class ModelSummary:
    """A registered model as the models page and a model's page head show it."""

    name: str
    description: str | None
    creation_time: int
    last_updated_time: int
    versions: int
    latest: int | None
    aliases: list[tuple[str, int]]  # (alias, version), by alias


@dataclass(frozen=True)
class ModelPage:
    model: ModelSummary
    versions: list[ModelVersion]  # newest first
    run_names: dict[str, str]  # of the candidates behind the versions, by run id


@dataclass(frozen=True)
class VersionPage:
    version: ModelVersion
    run_name: str | None  # None: no candidate of this project behind the version
    candidate_tags: dict[str, str]  # the candidate's gitlab.* tags (its CI links)


def models_of_project(conn: Connection, project_id: int) -> list[ModelSummary]:
    counts = (
        select(model_versions.c.registered_model_id, func.count().label("n"),
               func.max(model_versions.c.version).label("latest"))
        .group_by(model_versions.c.registered_model_id).subquery()
    )
    rows = conn.execute(
        select(registered_models, counts.c.n, counts.c.latest)
        .select_from(registered_models.outerjoin(counts, counts.c.registered_model_id == registered_models.c.id))
        .where(registered_models.c.project_id == project_id)
        .order_by(registered_models.c.last_updated_time.desc(), registered_models.c.name)
    ).all()
    aliases = load_aliases(conn, [r.id for r in rows])
    return [ModelSummary(r.name, r.description, r.creation_time, r.last_updated_time, r.n or 0, r.latest,
                         aliases[r.id]) for r in rows]


def model_names(conn: Connection, project_id: int) -> list[str]:
    return list(conn.execute(
        select(registered_models.c.name).where(registered_models.c.project_id == project_id)
        .order_by(registered_models.c.name)
    ).scalars())


def _run_names(conn: Connection, project_id: int, run_ids) -> dict[str, str]:
    wanted = sorted({r for r in run_ids if r})
    if not wanted:
        return {}
    return dict(conn.execute(
        select(runs.c.run_uuid, runs.c.name).where(runs.c.run_uuid.in_(wanted), runs.c.project_id == project_id)
    ).all())


def model_detail(conn: Connection, project_id: int, name: str) -> ModelPage | None:
    row = conn.execute(
        select(registered_models).where(registered_models.c.project_id == project_id, registered_models.c.name == name)
    ).first()
    if row is None:
        return None
    versions = load_versions(conn, conn.execute(
        versions_query().where(model_versions.c.registered_model_id == row.id)
        .order_by(model_versions.c.version.desc())
    ).all())
    model = ModelSummary(row.name, row.description, row.creation_time, row.last_updated_time, len(versions),
                         versions[0].version if versions else None, load_aliases(conn, [row.id])[row.id])
    return ModelPage(model, versions, _run_names(conn, project_id, [v.run_id for v in versions]))


def versions_of_runs(conn: Connection, project_id: int, run_ids: list[str]) -> dict[str, list[ModelVersion]]:
    """The model versions each candidate became."""
    result: dict[str, list[ModelVersion]] = defaultdict(list)
    if not run_ids:
        return result
    rows = conn.execute(
        versions_query()
        .where(model_versions.c.run_id.in_(run_ids), registered_models.c.project_id == project_id)
        .order_by(registered_models.c.name, model_versions.c.version)
    ).all()
    for version in load_versions(conn, rows):
        result[version.run_id].append(version)
    return result


def version_detail(conn: Connection, project_id: int, name: str, version: int) -> VersionPage | None:
    row = conn.execute(versions_query().where(
        registered_models.c.project_id == project_id, registered_models.c.name == name,
        model_versions.c.version == version,
    )).first()
    if row is None:
        return None
    found = load_versions(conn, [row])[0]
    names = _run_names(conn, project_id, [found.run_id])
    run_name = (names[found.run_id] or "") if found.run_id in names else None
    candidate_tags = {}
    if run_name is not None:
        candidate_tags = dict(conn.execute(
            select(tags.c.key, tags.c.value).where(tags.c.run_uuid == found.run_id, tags.c.key.like("gitlab.%"))
        ).all())
    return VersionPage(found, run_name, candidate_tags)


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
