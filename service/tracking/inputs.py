"""Run inputs (datasets, logged models) and outputs (logged models)."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select

from mltracker.service.db.id_lists import among
from mltracker.service.db.schema import datasets, input_tags, run_inputs, run_models
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.errors import invalid
from mltracker.service.tracking.run_records import (
    Dataset,
    DatasetInput,
    InputTag,
    ModelInput,
    ModelOutput,
    RunInputs,
)
from mltracker.service.tracking.validation import (
    MAX_DATASET_DIGEST_SIZE,
    MAX_DATASET_NAME_SIZE,
    MAX_DATASET_PROFILE_SIZE,
    MAX_DATASET_SCHEMA_SIZE,
    MAX_DATASET_SOURCE_SIZE,
    MAX_DATASETS_PER_BATCH,
    MAX_INPUT_TAG_KEY_SIZE,
    MAX_INPUT_TAG_VALUE_SIZE,
    check_length,
    missing_value,
)

_DATASET_FIELDS = ("name", "digest", "source_type", "source")


def validate_dataset_inputs(dataset_inputs: list[dict]) -> None:
    if len(dataset_inputs) > MAX_DATASETS_PER_BATCH:
        raise invalid(
            f"A batch logging request can contain at most {MAX_DATASETS_PER_BATCH} datasets. "
            f"Got {len(dataset_inputs)} datasets. Please split up datasets across multiple"
            " requests and try again."
        )
    for item in dataset_inputs:
        dataset = item.get("dataset")
        if not isinstance(dataset, dict):
            raise invalid(missing_value("dataset"))
        for field in _DATASET_FIELDS:
            if not isinstance(dataset.get(field), str) or dataset.get(field) == "":
                raise invalid(missing_value(f"dataset.{field}"))
        check_length("Dataset name", MAX_DATASET_NAME_SIZE, dataset["name"])
        check_length("Dataset digest", MAX_DATASET_DIGEST_SIZE, dataset["digest"])
        check_length("Dataset source", MAX_DATASET_SOURCE_SIZE, dataset["source"])
        check_length("Dataset schema", MAX_DATASET_SCHEMA_SIZE, dataset.get("schema"))
        check_length("Dataset profile", MAX_DATASET_PROFILE_SIZE, dataset.get("profile"))
        for tag in item.get("tags") or []:
            if not tag.get("key"):
                raise invalid(missing_value("tags.key"))
            if tag.get("value") is None:
                raise invalid(missing_value("tags.value"))
            check_length("Input tag key", MAX_INPUT_TAG_KEY_SIZE, tag["key"])
            check_length("Input tag value", MAX_INPUT_TAG_VALUE_SIZE, tag["value"])


def log_dataset_inputs(conn: Connection, experiment_id: int, run_id: str, dataset_inputs: list[dict]) -> None:
    for item in dataset_inputs:
        dataset = item["dataset"]
        dataset_uuid = _dataset_uuid(conn, experiment_id, dataset)
        existing = conn.execute(
            select(run_inputs.c.input_uuid).where(
                run_inputs.c.run_uuid == run_id, run_inputs.c.dataset_uuid == dataset_uuid
            )
        ).scalar()
        if existing is not None:
            continue  # MLflow keeps the first logging of a dataset to a run
        input_uuid = uuid.uuid4().hex
        upsert_rows(conn, run_inputs, [{"input_uuid": input_uuid, "run_uuid": run_id, "dataset_uuid": dataset_uuid}],
                    ["run_uuid", "dataset_uuid"], [])
        upsert_rows(
            conn, input_tags,
            [{"input_uuid": input_uuid, "name": t["key"], "value": t["value"]} for t in item.get("tags") or []],
            ["input_uuid", "name"], ["value"],
        )


def _dataset_uuid(conn: Connection, experiment_id: int, dataset: dict) -> str:
    key = (datasets.c.experiment_id == experiment_id, datasets.c.name == dataset["name"],
           datasets.c.digest == dataset["digest"])
    found = conn.execute(select(datasets.c.dataset_uuid).where(*key)).scalar()
    if found:
        return found
    upsert_rows(
        conn, datasets,
        [{
            "dataset_uuid": uuid.uuid4().hex,
            "experiment_id": experiment_id,
            "name": dataset["name"],
            "digest": dataset["digest"],
            "source_type": dataset["source_type"],
            "source": dataset["source"],
            "schema": dataset.get("schema"),
            "profile": dataset.get("profile"),
        }],
        ["experiment_id", "name", "digest"], [],
    )
    return conn.execute(select(datasets.c.dataset_uuid).where(*key)).scalar_one()


def log_models(conn: Connection, run_id: str, models: list[dict], direction: str) -> None:
    rows = []
    for item in models:
        model_id = item.get("model_id")
        if not isinstance(model_id, str) or not model_id:
            raise invalid(missing_value("model_id"))
        rows.append({"run_uuid": run_id, "model_id": model_id, "direction": direction,
                     "step": int(item.get("step") or 0)})
    upsert_rows(conn, run_models, rows, ["run_uuid", "model_id", "direction"], ["step"])


def load_inputs_outputs(conn: Connection, run_ids: list[str]) -> dict[str, tuple[RunInputs, tuple[ModelOutput, ...]]]:
    """run_id -> (its inputs, its model outputs); datasets by name, their tags by key."""
    dataset_inputs: dict[str, dict[str, tuple[Dataset, list[InputTag]]]] = defaultdict(dict)
    query = (
        select(
            run_inputs.c.run_uuid,
            run_inputs.c.input_uuid,
            datasets,
            input_tags.c.name.label("tag_key"),
            input_tags.c.value.label("tag_value"),
        )
        .join(datasets, datasets.c.dataset_uuid == run_inputs.c.dataset_uuid)
        .outerjoin(input_tags, input_tags.c.input_uuid == run_inputs.c.input_uuid)
        .where(among(conn, run_inputs.c.run_uuid, run_ids))
        .order_by(run_inputs.c.run_uuid, datasets.c.name, input_tags.c.name)
    )
    for row in conn.execute(query):
        entry = dataset_inputs[row.run_uuid].get(row.input_uuid)
        if entry is None:
            dataset = Dataset(row.name, row.digest, row.source_type, row.source, row.schema, row.profile)
            entry = dataset_inputs[row.run_uuid][row.input_uuid] = (dataset, [])
        if row.tag_key is not None:
            entry[1].append(InputTag(row.tag_key, row.tag_value))

    model_inputs: dict[str, list[ModelInput]] = defaultdict(list)
    model_outputs: dict[str, list[ModelOutput]] = defaultdict(list)
    for row in conn.execute(select(run_models).where(among(conn, run_models.c.run_uuid, run_ids))):
        if row.direction == "input":
            model_inputs[row.run_uuid].append(ModelInput(row.model_id))
        else:
            model_outputs[row.run_uuid].append(ModelOutput(row.model_id, row.step))

    return {
        run_id: (
            RunInputs(
                tuple(DatasetInput(dataset, tuple(tags)) for dataset, tags in dataset_inputs[run_id].values()),
                tuple(model_inputs[run_id]),
            ),
            tuple(model_outputs[run_id]),
        )
        for run_id in run_ids
    }


MAX_DATASET_SUMMARIES = 1000
DATASET_CONTEXT_TAG = "mlflow.data.context"


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    experiment_id: int
    name: str
    digest: str
    context: str | None


def dataset_summaries(conn: Connection, experiment_ids: list[int]) -> list[DatasetSummary]:
    """Distinct (experiment, dataset name, digest, context) of the experiments' run inputs,
    as MLflow's UI lists them; the context is the input's "mlflow.data.context" tag."""
    if not experiment_ids:
        return []
    context = input_tags.alias("context")
    query = (
        select(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, context.c.value)
        .distinct()
        .select_from(
            datasets.join(run_inputs, run_inputs.c.dataset_uuid == datasets.c.dataset_uuid).outerjoin(
                context,
                (context.c.input_uuid == run_inputs.c.input_uuid) & (context.c.name == DATASET_CONTEXT_TAG),
            )
        )
        .where(datasets.c.experiment_id.in_(experiment_ids))
        .limit(MAX_DATASET_SUMMARIES)
    )
    return [DatasetSummary(*row) for row in conn.execute(query)]
