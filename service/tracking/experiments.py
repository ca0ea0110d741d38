"""Experiments: create, read, rename, delete/restore, tags. All scoped to a project."""
from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltracker.service.db.upsert import upsert_rows
from mltracker.service.db.schema import experiment_tags, experiments, runs
from mltracker.service.errors import MlflowError, already_exists, invalid, not_found
from mltracker.service.tracking.clock import now_ms
from mltracker.service.tracking.validation import (
    parse_experiment_id,
    validate_experiment_name,
    validate_experiment_tag,
)

ACTIVE, DELETED = "active", "deleted"
DEFAULT_EXPERIMENT_NAME = "Default"
# MLflow clients use experiment "0" when none is set; each project maps it to its own Default.
DEFAULT_EXPERIMENT_ALIAS = 0


def artifact_location_for(experiment_id: int) -> str:
    return f"mlflow-artifacts:/{experiment_id}"


def refuse_artifact_location(artifact_location: str | None) -> None:
    """Artifacts live in the configured store under mlflow-artifacts:/<experiment id>; a location
    chosen by the client would be a place on the server's disk or in someone else's bucket."""
    if artifact_location:
        raise invalid(
            f"artifact_location {artifact_location!r} cannot be set: this server keeps every experiment's "
            "artifacts in its own artifact store (mlflow-artifacts:/<experiment_id>). Create the experiment "
            "without artifact_location."
        )


def create_experiment(
    conn: Connection, project_id: int, name, tags: list[dict] | None = None, experiment_id: int | None = None
) -> int:
    validate_experiment_name(name)
    for tag in tags or []:
        validate_experiment_tag(tag.get("key"), tag.get("value"))
    now = now_ms()
    values = dict(
        project_id=project_id,
        name=name,
        artifact_location="",
        lifecycle_stage=ACTIVE,
        creation_time=now,
        last_update_time=now,
    )
    if experiment_id is not None:
        values["experiment_id"] = experiment_id
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(experiments).values(**values)).inserted_primary_key[0]
    except IntegrityError:
        raise already_exists(f"Experiment(name={name}) already exists.") from None
    conn.execute(
        update(experiments)
        .where(experiments.c.experiment_id == new_id)
        .values(artifact_location=artifact_location_for(new_id))
    )
    if tags:
        conn.execute(
            insert(experiment_tags),
            [{"experiment_id": new_id, "key": t["key"], "value": t.get("value") or ""} for t in tags],
        )
    return int(new_id)


def resolve_experiment_id(conn: Connection, project_id: int, raw_id, create: bool = False) -> int:
    """The real id behind a client-supplied one; "0" means this project's Default experiment,
    created on first use when `create` (conn must then be a write connection)."""
    experiment_id = parse_experiment_id(raw_id)
    if experiment_id != DEFAULT_EXPERIMENT_ALIAS:
        return experiment_id
    found = _default_experiment_id(conn, project_id)
    if found is not None:
        return found
    if not create:
        return experiment_id
    try:
        return ensure_default_experiment(conn, project_id, use_alias_id=False)
    except MlflowError as exc:  # created meanwhile by a concurrent request
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return _default_experiment_id(conn, project_id)


def is_default_alias(raw_id) -> bool:
    return parse_experiment_id(raw_id) == DEFAULT_EXPERIMENT_ALIAS


def _default_experiment_id(conn: Connection, project_id: int) -> int | None:
    found = conn.execute(
        select(experiments.c.experiment_id).where(
            experiments.c.project_id == project_id, experiments.c.name == DEFAULT_EXPERIMENT_NAME
        )
    ).scalar()
    return int(found) if found is not None else None


def ensure_default_experiment(conn: Connection, project_id: int, use_alias_id: bool) -> int:
    found = _default_experiment_id(conn, project_id)
    if found is not None:
        return found
    return create_experiment(
        conn, project_id, DEFAULT_EXPERIMENT_NAME, experiment_id=DEFAULT_EXPERIMENT_ALIAS if use_alias_id else None
    )


def get_experiment_row(conn: Connection, project_id: int, experiment_id: int):
    row = conn.execute(
        select(experiments).where(
            experiments.c.experiment_id == experiment_id, experiments.c.project_id == project_id
        )
    ).first()
    if row is None:
        raise not_found(f"No Experiment with id={experiment_id} exists")
    return row


def get_experiment_by_name(conn: Connection, project_id: int, name: str):
    row = conn.execute(
        select(experiments).where(experiments.c.project_id == project_id, experiments.c.name == name)
    ).first()
    if row is None:
        raise not_found(f"Could not find experiment with name '{name}'")
    return row


def experiment_tags_of(conn: Connection, experiment_ids: list[int]) -> dict[int, dict[str, str]]:
    """experiment id -> its tags (key -> value), for every id asked."""
    result: dict[int, dict[str, str]] = {i: {} for i in experiment_ids}
    if not experiment_ids:
        return result
    for row in conn.execute(
        select(experiment_tags).where(experiment_tags.c.experiment_id.in_(experiment_ids))
    ):
        result[row.experiment_id][row.key] = row.value
    return result


def rename_experiment(conn: Connection, project_id: int, experiment_id: int, new_name) -> None:
    validate_experiment_name(new_name)
    row = get_experiment_row(conn, project_id, experiment_id)
    if row.lifecycle_stage != ACTIVE:
        raise MlflowError("Cannot rename a non-active experiment.", "INVALID_STATE")
    try:
        with conn.begin_nested():
            conn.execute(
                update(experiments)
                .where(experiments.c.experiment_id == experiment_id)
                .values(name=new_name, last_update_time=now_ms())
            )
    except IntegrityError:
        raise already_exists(f"Experiment(name={new_name}) already exists.") from None


def delete_experiment(conn: Connection, project_id: int, experiment_id: int) -> None:
    get_experiment_row(conn, project_id, experiment_id)
    now = now_ms()
    conn.execute(
        update(experiments)
        .where(experiments.c.experiment_id == experiment_id)
        .values(lifecycle_stage=DELETED, last_update_time=now)
    )
    conn.execute(
        update(runs)
        .where(runs.c.experiment_id == experiment_id, runs.c.lifecycle_stage == ACTIVE)
        .values(lifecycle_stage=DELETED, deleted_time=now)
    )


def restore_experiment(conn: Connection, project_id: int, experiment_id: int) -> None:
    row = get_experiment_row(conn, project_id, experiment_id)
    if row.lifecycle_stage != DELETED:
        raise MlflowError(
            f"Cannot restore an active experiment. Experiment id={experiment_id}", "INVALID_STATE"
        )
    conn.execute(
        update(experiments)
        .where(experiments.c.experiment_id == experiment_id)
        .values(lifecycle_stage=ACTIVE, last_update_time=now_ms())
    )
    # Runs deleted together with the experiment come back with it; runs deleted before stay deleted.
    conn.execute(
        update(runs)
        .where(
            runs.c.experiment_id == experiment_id,
            runs.c.lifecycle_stage == DELETED,
            runs.c.deleted_time >= row.last_update_time,
        )
        .values(lifecycle_stage=ACTIVE, deleted_time=None)
    )


def set_experiment_tag(conn: Connection, project_id: int, experiment_id: int, key, value) -> None:
    validate_experiment_tag(key, value)
    row = get_experiment_row(conn, project_id, experiment_id)
    if row.lifecycle_stage != ACTIVE:
        raise MlflowError(
            f"The experiment {experiment_id} must be in the 'active' state. "
            f"Current state is {row.lifecycle_stage}.",
            "INVALID_PARAMETER_VALUE",
        )
    upsert_rows(conn, experiment_tags, [{"experiment_id": experiment_id, "key": key, "value": value or ""}],
                ["experiment_id", "key"], ["value"])


def delete_experiment_tag(conn: Connection, project_id: int, experiment_id: int, key: str) -> None:
    get_experiment_row(conn, project_id, experiment_id)
    deleted = conn.execute(
        delete(experiment_tags).where(
            experiment_tags.c.experiment_id == experiment_id, experiment_tags.c.key == key
        )
    ).rowcount
    if not deleted:
        raise not_found(f"No tag with name: {key} in experiment with id {experiment_id}")


def get_experiment_rows(conn: Connection, experiment_ids: list[int]) -> dict:
    if not experiment_ids:
        return {}
    return {
        r.experiment_id: r
        for r in conn.execute(select(experiments).where(experiments.c.experiment_id.in_(experiment_ids)))
    }


_STAGES_BY_VIEW = {"ACTIVE_ONLY": (ACTIVE,), "DELETED_ONLY": (DELETED,), "ALL": (ACTIVE, DELETED)}


def list_experiment_ids(conn: Connection, project_id: int, view_type: str) -> list[int]:
    stages = _STAGES_BY_VIEW.get(view_type.upper())
    if stages is None:
        raise invalid(f"Invalid view_type '{view_type}'. Expected one of {sorted(_STAGES_BY_VIEW)}.")
    return list(conn.execute(
        select(experiments.c.experiment_id)
        .where(experiments.c.project_id == project_id, experiments.c.lifecycle_stage.in_(stages))
        .order_by(experiments.c.experiment_id)
    ).scalars())
