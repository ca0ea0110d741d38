"""Evaluation datasets: create, read, delete, tags, and the experiments a dataset is linked to.

Datasets belong to a project; a dataset of another project reads as missing. Shapes and messages
follow MLflow's SQL store (mlflow/store/tracking/sqlalchemy_store.py)."""
from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from mltracker.service.db.evaluation_schema import (
    evaluation_dataset_experiments,
    evaluation_dataset_tags,
    evaluation_datasets,
)
from mltracker.service.errors import invalid, not_found
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.clock import now_ms

ID_PREFIX = "d-"
USER_TAG = "mlflow.user"
MAX_NAME_LENGTH = 255
MAX_TAG_KEY_LENGTH = 255
MAX_TAG_VALUE_LENGTH = 5000


@dataclass(frozen=True)
class Dataset:
    """An evaluation dataset; schema and profile are the JSON texts the upserts keep up to date."""

    dataset_id: str
    name: str
    tags: dict[str, str]
    digest: str
    created_time: int
    last_update_time: int
    schema: str | None
    profile: str | None
    created_by: str | None
    last_updated_by: str | None
    experiment_ids: list[int]


def digest(name: str, last_update_time: int) -> str:
    """Changes with every update of the dataset, as MLflow's (first 8 hex digits of a SHA-256)."""
    return hashlib.sha256(f"{name}:{last_update_time}".encode()).hexdigest()[:8]


def _tag_rows(dataset_id: str, tags: dict) -> list[dict]:
    rows = []
    for key, value in tags.items():
        if value is None:
            continue
        value = value if isinstance(value, str) else str(value)
        if len(key) > MAX_TAG_KEY_LENGTH or len(value) > MAX_TAG_VALUE_LENGTH:
            raise invalid(f"Tag '{key[:50]}' is too long: keys may have {MAX_TAG_KEY_LENGTH} characters, "
                          f"values {MAX_TAG_VALUE_LENGTH}.")
        rows.append({"dataset_id": dataset_id, "key": key, "value": value})
    return rows


def parse_tags(raw: str | None, field: str = "tags") -> dict:
    """Tags arrive as a JSON object in a string field."""
    if raw is None or raw == "":
        return {}
    try:
        tags = json.loads(raw)
    except ValueError:
        raise invalid(f"'{field}' must be a JSON object encoded as a string.") from None
    if not isinstance(tags, dict):
        raise invalid(f"'{field}' must be a JSON object encoded as a string.")
    return tags


def resolve_experiments(conn: Connection, project_id: int, raw_ids: list[str]) -> list[int]:
    """The project's experiments behind client-supplied ids ("0" is the project's Default)."""
    resolved = []
    for raw in raw_ids:
        experiment_id = exps.resolve_experiment_id(conn, project_id, raw)
        exps.get_experiment_row(conn, project_id, experiment_id)
        if experiment_id not in resolved:
            resolved.append(experiment_id)
    return resolved


def create(conn: Connection, project_id: int, name, tags: dict, experiment_ids: list[int]) -> str:
    if not isinstance(name, str) or not name.strip():
        raise invalid("Dataset name must be a non-empty string.")
    if len(name) > MAX_NAME_LENGTH:
        raise invalid(f"Dataset name may have at most {MAX_NAME_LENGTH} characters.")
    dataset_id = f"{ID_PREFIX}{uuid.uuid4().hex}"
    now = now_ms()
    user = tags.get(USER_TAG)
    conn.execute(insert(evaluation_datasets).values(
        dataset_id=dataset_id, project_id=project_id, name=name, digest=digest(name, now),
        created_time=now, last_update_time=now, created_by=user, last_updated_by=user,
    ))
    rows = _tag_rows(dataset_id, tags)
    if rows:
        conn.execute(insert(evaluation_dataset_tags), rows)
    if experiment_ids:
        conn.execute(insert(evaluation_dataset_experiments),
                     [{"dataset_id": dataset_id, "experiment_id": e, "created_time": now} for e in experiment_ids])
    return dataset_id


def find_row(conn: Connection, project_id: int, dataset_id: str):
    return conn.execute(select(evaluation_datasets).where(
        evaluation_datasets.c.dataset_id == dataset_id, evaluation_datasets.c.project_id == project_id,
    )).first()


def get_row(conn: Connection, project_id: int, dataset_id: str):
    row = find_row(conn, project_id, dataset_id)
    if row is None:
        raise not_found(f"Evaluation dataset with id '{dataset_id}' not found")
    return row


def delete_dataset(conn: Connection, project_id: int, dataset_id: str) -> None:
    """Idempotent, as MLflow's: deleting a missing dataset does nothing."""
    conn.execute(delete(evaluation_datasets).where(
        evaluation_datasets.c.dataset_id == dataset_id, evaluation_datasets.c.project_id == project_id,
    ))


def set_tags(conn: Connection, project_id: int, dataset_id: str, tags: dict) -> None:
    if find_row(conn, project_id, dataset_id) is None:
        raise not_found(f"Could not find evaluation dataset with ID {dataset_id}")
    rows = _tag_rows(dataset_id, tags)
    if not rows:
        return
    conn.execute(delete(evaluation_dataset_tags).where(
        evaluation_dataset_tags.c.dataset_id == dataset_id,
        evaluation_dataset_tags.c.key.in_([r["key"] for r in rows]),
    ))
    conn.execute(insert(evaluation_dataset_tags), rows)


def delete_tag(conn: Connection, project_id: int, dataset_id: str, key: str) -> None:
    """Idempotent: a missing dataset or tag is not an error (as MLflow)."""
    if find_row(conn, project_id, dataset_id) is None:
        return
    conn.execute(delete(evaluation_dataset_tags).where(
        evaluation_dataset_tags.c.dataset_id == dataset_id, evaluation_dataset_tags.c.key == key,
    ))


def experiment_ids_of(conn: Connection, dataset_ids: list[str]) -> dict[str, list[int]]:
    result: dict[str, list[int]] = defaultdict(list)
    if not dataset_ids:
        return result
    t = evaluation_dataset_experiments
    for row in conn.execute(select(t.c.dataset_id, t.c.experiment_id)
                            .where(t.c.dataset_id.in_(dataset_ids)).order_by(t.c.created_time, t.c.experiment_id)):
        result[row.dataset_id].append(row.experiment_id)
    return result


def add_experiments(conn: Connection, project_id: int, dataset_id: str, experiment_ids: list[int]) -> None:
    if find_row(conn, project_id, dataset_id) is None:
        raise not_found(f"Dataset '{dataset_id}' not found")
    now = now_ms()
    linked = set(experiment_ids_of(conn, [dataset_id])[dataset_id])
    new = [e for e in experiment_ids if e not in linked]
    if new:
        conn.execute(insert(evaluation_dataset_experiments),
                     [{"dataset_id": dataset_id, "experiment_id": e, "created_time": now} for e in new])
    _touch(conn, dataset_id, now)


def remove_experiments(conn: Connection, project_id: int, dataset_id: str, experiment_ids: list[int]) -> None:
    """Idempotent: experiments the dataset is not linked to are left alone."""
    if find_row(conn, project_id, dataset_id) is None:
        raise not_found(f"Dataset '{dataset_id}' not found")
    t = evaluation_dataset_experiments
    removed = conn.execute(delete(t).where(t.c.dataset_id == dataset_id, t.c.experiment_id.in_(experiment_ids)))
    if removed.rowcount:
        _touch(conn, dataset_id, now_ms())


def _touch(conn: Connection, dataset_id: str, now: int) -> None:
    conn.execute(update(evaluation_datasets).where(evaluation_datasets.c.dataset_id == dataset_id)
                 .values(last_update_time=now))


def load_datasets(conn: Connection, rows: list) -> list[Dataset]:
    """The datasets of these rows, with their tags and linked experiments: three queries in all."""
    ids = [r.dataset_id for r in rows]
    tags: dict[str, dict] = defaultdict(dict)
    if ids:
        t = evaluation_dataset_tags
        for tag in conn.execute(select(t).where(t.c.dataset_id.in_(ids)).order_by(t.c.key)):
            tags[tag.dataset_id][tag.key] = tag.value
    experiments = experiment_ids_of(conn, ids)
    return [
        Dataset(dataset_id=r.dataset_id, name=r.name, tags=tags[r.dataset_id], digest=r.digest,
                created_time=r.created_time, last_update_time=r.last_update_time, schema=r.schema,
                profile=r.profile, created_by=r.created_by, last_updated_by=r.last_updated_by,
                experiment_ids=list(experiments[r.dataset_id]))
        for r in rows
    ]


def load_dataset(conn: Connection, project_id: int, dataset_id: str) -> Dataset:
    return load_datasets(conn, [get_row(conn, project_id, dataset_id)])[0]
