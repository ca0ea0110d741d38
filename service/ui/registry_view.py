"""Model registry reads for the pages (models, versions, aliases, source candidates) and the
bridge to the promote service (issue 3). One query per table, never per row."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from mltracker.service.db.schema import runs

try:
    from mltracker.service.db.registry_schema import model_versions, registered_model_aliases, registered_models
except ImportError:  # the registry is not part of this build
    registered_models = model_versions = registered_model_aliases = None


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


def available() -> bool:
    return registered_models is not None


def _registry_ready(conn: Connection) -> bool:
    return available() and conn.dialect.has_table(conn, "registered_models")


def models_of_project(conn: Connection, project_id: int) -> list[ModelView]:
    if not _registry_ready(conn):
        return []
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
    if not _registry_ready(conn):
        return []
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
    if not _registry_ready(conn):
        return None
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
    if not run_ids or not _registry_ready(conn):
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


def _promote_service():
    try:
        from mltracker.service.promote import promote as service
    except ImportError:
        return None
    return service


def promote_available() -> bool:
    return _promote_service() is not None


def promote(project_id: int, run_id: str, model_name: str, alias: str | None, actor: str) -> int:
    """Promote through the registry's promote service (issue 3); returns the new version number."""
    service = _promote_service()
    if service is None:
        raise NotImplementedError("Promotion is not available in this build of mltracker.")
    from mltracker.service.context import services

    with services().db.write() as conn:
        promotion = service(conn, project_id, run_id, model_name, alias, actor=actor)
    return promotion.version
