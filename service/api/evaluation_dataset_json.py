"""The MLflow JSON of evaluation datasets: the Dataset message (tags as a JSON string) and a record
as MLflow's DatasetRecord.to_dict()."""
from __future__ import annotations

import json

from mltracker.service.evaluation_datasets.records import DatasetRecord
from mltracker.service.evaluation_datasets.store import Dataset


def dataset_json(dataset: Dataset) -> dict:
    item = {
        "dataset_id": dataset.dataset_id,
        "name": dataset.name,
        "tags": json.dumps(dataset.tags),
        "digest": dataset.digest,
        "created_time": dataset.created_time,
        "last_update_time": dataset.last_update_time,
    }
    for field in ("schema", "profile", "created_by", "last_updated_by"):
        if getattr(dataset, field) is not None:
            item[field] = getattr(dataset, field)
    if dataset.experiment_ids:
        item["experiment_ids"] = [str(e) for e in dataset.experiment_ids]
    return item


def record_json(record: DatasetRecord) -> dict:
    item = {
        "dataset_record_id": record.dataset_record_id,
        "dataset_id": record.dataset_id,
        "inputs": record.inputs,
        "created_time": record.created_time,
        "last_update_time": record.last_update_time,
        "tags": record.tags,
    }
    for field in ("outputs", "expectations", "source", "source_id", "source_type", "created_by", "last_updated_by"):
        if getattr(record, field) is not None:
            item[field] = getattr(record, field)
    return item


def records_text(records: list[DatasetRecord]) -> str:
    """GetDatasetRecords carries its page as a JSON list in a string field."""
    return json.dumps([record_json(r) for r in records])
