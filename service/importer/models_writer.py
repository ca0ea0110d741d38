"""MLflow 3 logged models (ids kept, artifacts copied) and the model registry: registered models,
versions with their numbers, and aliases.

A version's source is rewritten to point at the imported artifacts: `mlflow-artifacts:/<source
experiment>/…` becomes the mapped experiment's path; `models:/m-…` and `runs:/…` URIs stay valid as
they are, since model and run ids are kept (a logged model's storage location is its new artifact
location). A version number already used by a different version is a conflict, never overwritten.

GitLab's built-in registry (lib/api/entities/ml/mlflow/model_version.rb) gives a version's page as
its source, its semantic version as its only alias, "development" as its stage and timestamps in
seconds: its files are its candidate run's artifacts, so the source becomes that imported run's
artifact location (as `create_model_version` does here for GitLab-style versions), the semantic
version its `gitlab.version` tag (accepted wherever a version is), the stage None, and the
timestamps milliseconds.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from mltracker.service.artifacts.paths import join_key
from mltracker.service.db.registry_schema import (
    logged_model_params,
    logged_model_tags,
    logged_models,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.importer import ledger as lg
from mltracker.service.importer.artifacts_copy import copy_tree, proxied_path
from mltracker.service.importer.context import ImportContext
from mltracker.service.importer.planner import Action, decide
from mltracker.service.logged_models import metrics as logged_model_metrics
from mltracker.service.logged_models.status import parse_status
from mltracker.service.db.schema import runs
from mltracker.service.registry.gitlab_compat import VERSION_TAG, is_semver
from mltracker.service.registry.stages import ALL_STAGES, NONE
from mltracker.service.tracking import experiments as exps

# A GitLab model version's page, `project_ml_model_version_path`: <project>/-/ml/models/<id>/versions/<id>
_GITLAB_VERSION_PAGE = re.compile(r"/-/ml/models/\d+/versions/\d+/?$")
# Milliseconds since 1970 pass this in March 1973; seconds (GitLab's `created_at.to_i`) reach it in 5138.
_SECONDS_BELOW = 10 ** 11

# ---------------------------------------------------------------- logged models


def import_logged_model(ctx: ImportContext, model: dict, experiment_map: dict[str, int]) -> None:
    info = model["info"]
    model_id = info["model_id"]
    target_experiment = experiment_map.get(str(info.get("experiment_id")))
    if target_experiment is None and ctx.db is not None and not ctx.dry_run:
        return  # its experiment is not part of this import
    fingerprint = lg.fingerprint(model)
    if ctx.db is None:
        ctx.summary.plan(f"copy logged model {model_id}")
        ctx.summary.add("logged_models_copied")
        return
    with ctx.db.read() as conn:
        entry = ctx.ledger.get(conn, lg.LOGGED_MODEL, model_id)
        row = conn.execute(select(logged_models).where(logged_models.c.model_id == model_id)).first()
    decision = decide(entry, fingerprint, row is not None)
    if decision is None:  # present, not imported by us
        same = row.project_id == ctx.project_id and row.experiment_id == target_experiment and row.name == info.get("name")
        decision = _adopt_or_conflict(same, f"logged model {model_id} exists with different data")
    if decision.action is Action.CONFLICT:
        ctx.summary.conflict(decision.reason)
        return
    if decision.action is Action.UNCHANGED or (decision.action is Action.ADOPT and ctx.dry_run):
        ctx.summary.add("logged_models_unchanged")
        return
    if ctx.dry_run:
        ctx.summary.plan(f"{decision.action.value} logged model {model_id}")
        ctx.summary.add("logged_models_copied")
        return
    if decision.action is Action.ADOPT:
        with ctx.db.write() as conn:
            ctx.ledger.record(conn, lg.LOGGED_MODEL, model_id, model_id, lg.DONE, fingerprint)
        ctx.summary.add("logged_models_unchanged")
        return
    with ctx.db.write() as conn:
        experiment = exps.get_experiment_row(conn, ctx.project_id, target_experiment)
        location = f"{experiment.artifact_location.rstrip('/')}/models/{model_id}/artifacts"
        upsert_rows(conn, logged_models, [{
            "model_id": model_id, "project_id": ctx.project_id, "experiment_id": target_experiment,
            "name": info.get("name") or model_id, "artifact_location": location,
            "creation_timestamp_ms": int(info.get("creation_timestamp_ms") or 0),
            "last_updated_timestamp_ms": int(info.get("last_updated_timestamp_ms") or 0),
            "status": parse_status(info.get("status") or 0), "lifecycle_stage": exps.ACTIVE,
            "model_type": info.get("model_type") or None, "source_run_id": info.get("source_run_id") or None,
            "status_message": info.get("status_message") or None,
        }], ["model_id"], ["name", "status", "last_updated_timestamp_ms", "model_type", "status_message"])
        _pairs(conn, logged_model_params, model_id, (model.get("data") or {}).get("params"))
        _pairs(conn, logged_model_tags, model_id, info.get("tags"))
        _model_metrics(conn, ctx.project_id, model_id, target_experiment, (model.get("data") or {}).get("metrics"))
        ctx.ledger.record(conn, lg.LOGGED_MODEL, model_id, model_id, lg.STARTED)
    if ctx.copy_artifacts:
        source_root = proxied_path(info.get("artifact_uri"))
        if source_root is not None:
            copy_tree(ctx.source, ctx.storage, source_root,
                      join_key(str(ctx.project_id), proxied_path(location)), ctx.summary)
    with ctx.db.write() as conn:
        ctx.ledger.record(conn, lg.LOGGED_MODEL, model_id, model_id, lg.DONE, fingerprint)
    ctx.summary.add("logged_models_copied")


def _model_metrics(conn, project_id: int, model_id: str, experiment_id: int, points) -> None:
    """The points logged against the model (`log_metric(..., model_id=…)`), per run that logged them."""
    by_run: dict[str, list[dict]] = {}
    for point in points or []:
        by_run.setdefault(point.get("run_id") or "", []).append({**point, "model_id": model_id})
    for run_id, run_points in by_run.items():
        logged_model_metrics.record(conn, project_id, run_id, experiment_id, run_points)


def _pairs(conn, table, model_id: str, items) -> None:
    upsert_rows(conn, table, [{"model_id": model_id, "key": i["key"], "value": i.get("value", "")} for i in items or []],
                ["model_id", "key"], ["value"])


def _adopt_or_conflict(same: bool, reason: str):
    from mltracker.service.importer.planner import Decision

    return Decision(Action.ADOPT) if same else Decision(Action.CONFLICT, reason)


# ---------------------------------------------------------------- registry


def timestamp_ms(value) -> int:
    """A registry timestamp in milliseconds; GitLab's are in seconds."""
    number = int(value or 0)
    return number * 1000 if 0 < number < _SECONDS_BELOW else number


def stage_of(version: dict) -> str:
    """MLflow's stage names; GitLab's "development" (and anything else unknown) is None."""
    stage = (version.get("current_stage") or "").lower()
    return next((s for s in ALL_STAGES if s.lower() == stage), NONE)


def is_gitlab_version_page(source: str) -> bool:
    parts = urlsplit(source or "")
    return parts.scheme in ("http", "https") and bool(_GITLAB_VERSION_PAGE.search(parts.path))


def version_tags(version: dict) -> list[dict]:
    """The version's tags, with GitLab's semantic version (its alias there) as gitlab.version."""
    found = [{"key": t["key"], "value": t.get("value", "")} for t in version.get("tags") or []]
    semvers = [a for a in version.get("aliases") or [] if isinstance(a, str) and is_semver(a)]
    if is_gitlab_version_page(version.get("source") or "") and semvers and all(t["key"] != VERSION_TAG for t in found):
        found.append({"key": VERSION_TAG, "value": semvers[0]})
    return found


def rewrite_source(source: str, experiment_map: dict[str, int]) -> str:
    """The version's source as it reads in the target: proxied artifact paths follow the experiment map."""
    parts = urlsplit(source or "")
    path = proxied_path(source)
    if parts.scheme != "mlflow-artifacts" or not path:
        return source
    head, _, rest = path.partition("/")
    if head in experiment_map:
        return f"mlflow-artifacts:/{experiment_map[head]}" + (f"/{rest}" if rest else "")
    return source


def import_registered_model(ctx: ImportContext, registered: dict, versions: list[dict],
                            experiment_map: dict[str, int]) -> None:
    name = registered["name"]
    view = {k: v for k, v in registered.items() if k != "latest_versions"}
    fingerprint = lg.fingerprint({"model": view, "versions": versions})
    if ctx.db is None:
        ctx.summary.plan(f"copy registered model {name!r} with {len(versions)} versions")
        ctx.summary.add("registered_models_copied")
        return
    with ctx.db.read() as conn:
        entry = ctx.ledger.get(conn, lg.REGISTERED_MODEL, name)
        row = _registered_row(conn, ctx.project_id, name)
    if entry is not None and entry.state == lg.DONE and entry.fingerprint == fingerprint and row is not None:
        ctx.summary.add("registered_models_unchanged")
        return
    if ctx.dry_run:
        ctx.summary.plan(f"copy registered model {name!r} with {len(versions)} versions")
        ctx.summary.add("registered_models_copied")
        return
    ours = entry is not None or row is None
    with ctx.db.write() as conn:
        if row is None:
            model_id = conn.execute(registered_models.insert().values(
                project_id=ctx.project_id, name=name, creation_time=timestamp_ms(registered.get("creation_timestamp")),
                last_updated_time=timestamp_ms(registered.get("last_updated_timestamp")),
                description=registered.get("description"), last_version=0,
            )).inserted_primary_key[0]
        else:
            model_id = row.id
            if ours:
                conn.execute(update(registered_models).where(registered_models.c.id == model_id).values(
                    description=registered.get("description"),
                    last_updated_time=timestamp_ms(registered.get("last_updated_timestamp"))))
        upsert_rows(conn, registered_model_tags,
                    [{"registered_model_id": model_id, "key": t["key"], "value": t.get("value", "")}
                     for t in registered.get("tags") or []],
                    ["registered_model_id", "key"], ["value"] if ours else [])
        copied = [_import_version(ctx, conn, model_id, name, v, experiment_map) for v in versions]
        present = set(conn.execute(select(model_versions.c.version)
                                   .where(model_versions.c.registered_model_id == model_id)).scalars())
        highest = max(present, default=0)
        conn.execute(update(registered_models).where(registered_models.c.id == model_id)
                     .values(last_version=func.max(registered_models.c.last_version, highest)
                             if conn.dialect.name == "sqlite" else func.greatest(registered_models.c.last_version, highest)))
        for alias in registered.get("aliases") or []:
            number = int(alias["version"])
            if number in present:
                upsert_rows(conn, registered_model_aliases,
                            [{"registered_model_id": model_id, "alias": alias["alias"], "version": number}],
                            ["registered_model_id", "alias"], ["version"] if ours else [])
                ctx.summary.add("aliases_copied")
        ctx.summary.add("model_versions_copied", sum(copied))
        ctx.ledger.record(conn, lg.REGISTERED_MODEL, name, str(model_id), lg.DONE, fingerprint)
    ctx.summary.add("registered_models_copied")


def _registered_row(conn, project_id: int, name: str):
    return conn.execute(select(registered_models).where(
        registered_models.c.project_id == project_id, registered_models.c.name == name)).first()


def _import_version(ctx: ImportContext, conn, model_id: int, name: str, version: dict,
                    experiment_map: dict[str, int]) -> bool:
    number = int(version["version"])
    run_id = version.get("run_id") or None
    source = _target_source(conn, ctx.project_id, version, run_id, experiment_map)
    if is_gitlab_version_page(source):
        ctx.summary.note(f"model {name!r} version {number}: its GitLab candidate run {run_id} was not imported "
                         f"(import the experiment '[model]{name}' too), so its source stays GitLab's page")
    logged_model_id = version.get("model_id") or None
    existing = conn.execute(select(model_versions).where(
        model_versions.c.registered_model_id == model_id, model_versions.c.version == number)).first()
    if existing is not None:
        if (existing.source, existing.run_id, existing.model_id) != (source, run_id, logged_model_id):
            ctx.summary.conflict(f"model {name!r} version {number} exists with another source ({existing.source})")
            return False
        values = dict(description=version.get("description"), current_stage=stage_of(version),
                      last_updated_time=timestamp_ms(version.get("last_updated_timestamp")))
        conn.execute(update(model_versions).where(model_versions.c.registered_model_id == model_id,
                                                  model_versions.c.version == number).values(**values))
    else:
        conn.execute(model_versions.insert().values(
            registered_model_id=model_id, version=number,
            creation_time=timestamp_ms(version.get("creation_timestamp")),
            last_updated_time=timestamp_ms(version.get("last_updated_timestamp")),
            description=version.get("description"), user_id=version.get("user_id") or None,
            current_stage=stage_of(version), source=source,
            storage_location=_storage_location(conn, source, logged_model_id),
            run_id=run_id, run_link=version.get("run_link") or None, model_id=logged_model_id,
            status=version.get("status") or "READY", status_message=version.get("status_message") or None,
        ))
    upsert_rows(conn, model_version_tags,
                [{"registered_model_id": model_id, "version": number, "key": t["key"], "value": t["value"]}
                 for t in version_tags(version)],
                ["registered_model_id", "version", "key"], ["value"])
    return existing is None


def _target_source(conn, project_id: int, version: dict, run_id: str | None, experiment_map: dict[str, int]) -> str:
    source = version.get("source") or ""
    if is_gitlab_version_page(source) and run_id:
        imported = conn.execute(select(runs.c.artifact_uri).where(
            runs.c.run_uuid == run_id, runs.c.project_id == project_id)).scalar()
        if imported:
            return imported
    return rewrite_source(source, experiment_map)


def _storage_location(conn, source: str, logged_model_id: str | None) -> str:
    """Where the version's files are, as create_model_version works it out: a logged model's
    artifact location for `models:/m-…`, else the source itself."""
    if source.startswith("models:/") and logged_model_id:
        location = conn.execute(select(logged_models.c.artifact_location)
                                .where(logged_models.c.model_id == logged_model_id)).scalar()
        if location:
            return location
    return source
