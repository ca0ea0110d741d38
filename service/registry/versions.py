"""Model versions: create (numbered by the model's counter), read, describe, stage, delete, tags."""
from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from mltracker.service.db.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_models,
)
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.errors import invalid, not_found
from mltracker.service.registry import announce, gitlab_compat
from mltracker.service.registry import registered_models as rms
from mltracker.service.registry import sources
from mltracker.service.registry import validation as v
from mltracker.service.registry.records import versions_query
from mltracker.service.registry.stages import ACTIVE_STAGES, ALL_STAGES, ARCHIVED, NONE, canonical_stage
from mltracker.service.tracking.clock import now_ms

READY = "READY"


def version_number(conn: Connection, project_id: int, name, version) -> int:
    """The version number; a semantic version ("1.0.0", GitLab's gitlab.version tag) is looked up."""
    if gitlab_compat.is_semver(version):
        found = gitlab_compat.version_with_tag(conn, project_id, name, version)
        if found is None:
            raise not_found(f"Model Version (name={name}, version={version}) not found")
        return found
    return v.parse_version(version)


def get_version_row(conn: Connection, project_id: int, name, version):
    v.validate_model_name(name)
    number = version_number(conn, project_id, name, version)
    row = conn.execute(
        versions_query().where(
            registered_models.c.project_id == project_id,
            registered_models.c.name == name,
            model_versions.c.version == number,
        )
    ).first()
    if row is None:
        raise not_found(f"Model Version (name={name}, version={number}) not found")
    return row


def next_version(conn: Connection, registered_model_id: int) -> int:
    """Take the model's next version number: one atomic UPDATE … RETURNING on the counter row."""
    return conn.execute(
        update(registered_models)
        .where(registered_models.c.id == registered_model_id)
        .values(last_version=registered_models.c.last_version + 1, last_updated_time=now_ms())
        .returning(registered_models.c.last_version)
    ).scalar_one()


def lookup_by_model_uri(conn: Connection, project_id: int, uri: sources.ModelUri):
    """The version a `models:/name/…` or `models:/name@alias` URI designates."""
    if uri.alias is not None:
        return get_version_row(conn, project_id, uri.name, rms.alias_version(conn, project_id, uri.name, uri.alias))
    if uri.version is not None and uri.version.isdigit():
        return get_version_row(conn, project_id, uri.name, uri.version)
    model = rms.get_row(conn, project_id, uri.name)
    query = select(model_versions.c.version).where(model_versions.c.registered_model_id == model.id)
    if uri.version is not None:
        query = query.where(model_versions.c.current_stage == canonical_stage(uri.version))
    latest = conn.execute(query.order_by(model_versions.c.version.desc()).limit(1)).scalar()
    if latest is None:
        raise not_found(f"No versions of model with name '{uri.name}' and stage '{uri.version or 'latest'}' found")
    return get_version_row(conn, project_id, uri.name, latest)


def create(
    conn: Connection,
    project_id: int,
    name,
    source,
    run_id=None,
    model_id=None,
    tags: list[dict] | None = None,
    run_link=None,
    description=None,
    user_id=None,
    allowed_schemes: frozenset[str] = frozenset(),
):
    """A new version of `name`; returns its row. The caller's transaction makes it all-or-nothing.
    `allowed_schemes`: host-naming source schemes accepted all the same (Settings)."""
    v.validate_model_name(name)
    tags = tags or []
    for tag in tags:
        v.validate_model_version_tag(tag.get("key"), tag.get("value"))
    resolved = sources.resolve(
        conn, project_id, source, run_id, model_id,
        lookup_version=lambda uri: lookup_by_model_uri(conn, project_id, uri),
        allowed_schemes=allowed_schemes,
    )
    model = rms.get_row(conn, project_id, name, for_update=True)
    number = next_version(conn, model.id)
    now = now_ms()
    conn.execute(
        insert(model_versions).values(
            registered_model_id=model.id,
            version=number,
            creation_time=now,
            last_updated_time=now,
            description=description,
            user_id=user_id,
            current_stage=NONE,
            source=resolved.source,
            storage_location=resolved.storage_location,
            run_id=resolved.run_id,
            run_link=run_link,
            model_id=resolved.model_id,
            status=READY,
        )
    )
    latest = {t["key"]: t["value"] for t in tags}
    upsert_rows(
        conn, model_version_tags,
        [{"registered_model_id": model.id, "version": number, "key": k, "value": val} for k, val in latest.items()],
        ["registered_model_id", "version", "key"], ["value"],
    )
    announce.model_version_created(conn, project_id, name, number, source=resolved.source, run_id=resolved.run_id,
                                   tags=tags, description=description)
    return get_version_row(conn, project_id, name, number)


def update_description(conn: Connection, project_id: int, name, version, description):
    row = get_version_row(conn, project_id, name, version)
    conn.execute(
        update(model_versions)
        .where(model_versions.c.registered_model_id == row.registered_model_id,
               model_versions.c.version == row.version)
        .values(description=description, last_updated_time=now_ms())
    )
    return get_version_row(conn, project_id, name, row.version)


def transition_stage(conn: Connection, project_id: int, name, version, stage, archive_existing: bool):
    if archive_existing and canonical_stage(stage) not in ACTIVE_STAGES:
        raise invalid(
            "Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
        )
    target = canonical_stage(stage)
    row = get_version_row(conn, project_id, name, version)
    now = now_ms()
    if archive_existing:
        conn.execute(
            update(model_versions)
            .where(model_versions.c.registered_model_id == row.registered_model_id,
                   model_versions.c.version != row.version,
                   model_versions.c.current_stage == target)
            .values(current_stage=ARCHIVED, last_updated_time=now)
        )
    conn.execute(
        update(model_versions)
        .where(model_versions.c.registered_model_id == row.registered_model_id,
               model_versions.c.version == row.version)
        .values(current_stage=target, last_updated_time=now)
    )
    rms.touch(conn, row.registered_model_id, now)
    return get_version_row(conn, project_id, name, row.version)


def delete_version(conn: Connection, project_id: int, name, version) -> None:
    """Remove the version, its tags and the aliases on it. Its number is never handed out again."""
    row = get_version_row(conn, project_id, name, version)
    conn.execute(
        delete(registered_model_aliases).where(
            registered_model_aliases.c.registered_model_id == row.registered_model_id,
            registered_model_aliases.c.version == row.version,
        )
    )
    conn.execute(
        delete(model_versions).where(
            model_versions.c.registered_model_id == row.registered_model_id,
            model_versions.c.version == row.version,
        )
    )
    rms.touch(conn, row.registered_model_id)


def latest_versions(conn: Connection, project_id: int, name, stages: list[str] | None) -> list:
    """The newest version in each requested stage (all stages when none are given)."""
    model = rms.get_row(conn, project_id, name)
    wanted = {canonical_stage(s) for s in stages} if stages else set(ALL_STAGES)
    rows = conn.execute(
        versions_query().where(model_versions.c.registered_model_id == model.id)
        .order_by(model_versions.c.version)
    ).all()
    newest = {}
    for row in rows:
        if row.current_stage in wanted:
            newest[row.current_stage] = row
    return sorted(newest.values(), key=lambda r: r.version)


def download_uri(conn: Connection, project_id: int, name, version) -> str:
    row = get_version_row(conn, project_id, name, version)
    return row.storage_location or row.source


def set_tag(conn: Connection, project_id: int, name, version, key, value) -> None:
    v.validate_model_name(name)
    number = version_number(conn, project_id, name, version)
    v.validate_model_version_tag(key, value)
    row = get_version_row(conn, project_id, name, number)
    upsert_rows(
        conn, model_version_tags,
        [{"registered_model_id": row.registered_model_id, "version": number, "key": key, "value": value}],
        ["registered_model_id", "version", "key"], ["value"],
    )
    announce.version_tag_changed(conn, project_id, row.registered_model_id, name, version, key, value)


def delete_tag(conn: Connection, project_id: int, name, version, key) -> None:
    v.validate_model_name(name)
    number = version_number(conn, project_id, name, version)
    v.validate_tag_key(key)
    row = get_version_row(conn, project_id, name, number)
    conn.execute(
        delete(model_version_tags).where(
            model_version_tags.c.registered_model_id == row.registered_model_id,
            model_version_tags.c.version == number,
            model_version_tags.c.key == key,
        )
    )
    announce.version_tag_changed(conn, project_id, row.registered_model_id, name, version, key, None, deleted=True)
