"""Registered scorers: each (experiment, name) has versions 1, 2, … of a serialized scorer.

The server only stores what the client serialized (JSON) and hands it back; it never runs a
scorer, so decorator-defined scorers (whose JSON carries Python source) are stored like any other.
Messages follow MLflow's SQL store."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from mltracker.service.db.evaluation_schema import scorer_versions, scorers
from mltracker.service.errors import invalid, not_found
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.clock import now_ms

MAX_NAME_LENGTH = 256


@dataclass(frozen=True)
class ScorerVersion:
    """One version of a registered scorer; `serialized` is the client's JSON text, kept as sent."""

    experiment_id: int
    name: str
    version: int
    serialized: str
    creation_time: int
    scorer_id: str


def _active_experiment(conn: Connection, project_id: int, experiment_id: int) -> None:
    experiment = exps.get_experiment_row(conn, project_id, experiment_id)
    if experiment.lifecycle_stage != exps.ACTIVE:
        raise invalid(f"The experiment {experiment_id} must be in the 'active' state. "
                      f"Current state is {experiment.lifecycle_stage}.")


def _validate(name: str, serialized: str) -> None:
    if not name.strip():
        raise invalid("Scorer name cannot be empty or contain only whitespace.")
    if len(name) > MAX_NAME_LENGTH:
        raise invalid(f"Scorer name may have at most {MAX_NAME_LENGTH} characters.")
    try:
        json.loads(serialized)
    except ValueError:
        raise invalid("serialized_scorer must be valid JSON") from None


def _scorer_id(conn: Connection, experiment_id: int, name: str) -> str | None:
    return conn.execute(select(scorers.c.scorer_id).where(
        scorers.c.experiment_id == experiment_id, scorers.c.name == name)).scalar()


def register(conn: Connection, project_id: int, experiment_id: int, name: str, serialized: str) -> ScorerVersion:
    _validate(name, serialized)
    _active_experiment(conn, project_id, experiment_id)
    scorer_id = _scorer_id(conn, experiment_id, name)
    if scorer_id is None:
        scorer_id = str(uuid.uuid4())
        try:
            with conn.begin_nested():
                conn.execute(insert(scorers).values(scorer_id=scorer_id, experiment_id=experiment_id, name=name))
        except IntegrityError:  # registered concurrently under the same name
            scorer_id = _scorer_id(conn, experiment_id, name)
    latest = conn.execute(select(func.max(scorer_versions.c.version))
                          .where(scorer_versions.c.scorer_id == scorer_id)).scalar()
    created = ScorerVersion(experiment_id, name, (latest or 0) + 1, serialized, now_ms(), scorer_id)
    conn.execute(insert(scorer_versions).values(
        scorer_id=scorer_id, version=created.version, serialized_scorer=serialized, creation_time=created.creation_time,
    ))
    return created


def _version(row) -> ScorerVersion:
    return ScorerVersion(row.experiment_id, row.name, row.version, row.serialized_scorer, row.creation_time,
                         row.scorer_id)


def _versions_query():
    return (select(scorers.c.experiment_id, scorers.c.name, scorer_versions)
            .join(scorer_versions, scorer_versions.c.scorer_id == scorers.c.scorer_id))


def list_latest(conn: Connection, project_id: int, experiment_id: int) -> list[ScorerVersion]:
    """The latest version of each scorer of the experiment, by name."""
    _active_experiment(conn, project_id, experiment_id)
    latest = (select(scorer_versions.c.scorer_id, func.max(scorer_versions.c.version).label("version"))
              .group_by(scorer_versions.c.scorer_id).subquery())
    query = (_versions_query()
             .join(latest, (latest.c.scorer_id == scorer_versions.c.scorer_id)
                   & (latest.c.version == scorer_versions.c.version))
             .where(scorers.c.experiment_id == experiment_id).order_by(scorers.c.name))
    return [_version(r) for r in conn.execute(query)]


def _existing_scorer_id(conn: Connection, project_id: int, experiment_id: int, name: str) -> str:
    _active_experiment(conn, project_id, experiment_id)
    scorer_id = _scorer_id(conn, experiment_id, name)
    if scorer_id is None:
        raise not_found(f"Scorer with name '{name}' not found for experiment {experiment_id}.")
    return scorer_id


def list_versions(conn: Connection, project_id: int, experiment_id: int, name: str) -> list[ScorerVersion]:
    scorer_id = _existing_scorer_id(conn, project_id, experiment_id, name)
    query = _versions_query().where(scorers.c.scorer_id == scorer_id).order_by(scorer_versions.c.version)
    return [_version(r) for r in conn.execute(query)]


def get(conn: Connection, project_id: int, experiment_id: int, name: str, version: int | None) -> ScorerVersion:
    scorer_id = _existing_scorer_id(conn, project_id, experiment_id, name)
    query = _versions_query().where(scorers.c.scorer_id == scorer_id)
    if version is not None:
        query = query.where(scorer_versions.c.version == version)
    row = conn.execute(query.order_by(scorer_versions.c.version.desc()).limit(1)).first()
    if row is None:
        suffix = f" and version {version}" if version is not None else ""
        raise not_found(f"Scorer with name '{name}'{suffix} not found for experiment {experiment_id}.")
    return _version(row)


def delete_scorer(conn: Connection, project_id: int, experiment_id: int, name: str, version: int | None) -> None:
    """One version, or (version None) the scorer with all its versions."""
    scorer_id = _existing_scorer_id(conn, project_id, experiment_id, name)
    if version is None:
        conn.execute(delete(scorers).where(scorers.c.scorer_id == scorer_id))
        return
    removed = conn.execute(delete(scorer_versions).where(
        scorer_versions.c.scorer_id == scorer_id, scorer_versions.c.version == version)).rowcount
    if not removed:
        raise not_found(f"Scorer with name '{name}' and version {version} not found for"
                        f" experiment {experiment_id}.")

