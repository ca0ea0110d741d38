"""The domain's typed values and rows in MLflow's JSON shapes (proto3 JSON: doubles NaN/Infinity
as strings, ids as strings). The only place runs, metrics and logged models become MLflow JSON
(the registry's shapes: service/api/registry_json.py)."""
from __future__ import annotations

import math

from mltracker.service.logged_models.records import LoggedModel
from mltracker.service.logged_models.status import NAMES as LOGGED_MODEL_STATUS_NAMES
from mltracker.service.tracking.inputs import DatasetSummary
from mltracker.service.tracking.run_records import DatasetInput, Metric, Run, RunInfo, RunInputs


_INFINITIES = {math.inf: "Infinity", -math.inf: "-Infinity"}


def json_double(value: float, is_nan: bool = False):
    if is_nan or value != value:
        return "NaN"
    return _INFINITIES.get(value, value)


def experiment_json(row, tags: dict[str, str]) -> dict:
    return {
        "experiment_id": str(row.experiment_id),
        "name": row.name,
        "artifact_location": row.artifact_location,
        "lifecycle_stage": row.lifecycle_stage,
        "last_update_time": row.last_update_time,
        "creation_time": row.creation_time,
        "tags": key_values_json(tags),
    }


def run_info_json(info: RunInfo) -> dict:
    payload = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.name,
        "experiment_id": str(info.experiment_id),
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.end_time is not None:
        payload["end_time"] = info.end_time
    return payload


def metric_json(metric: Metric) -> dict:
    return {"key": metric.key, "value": json_double(metric.value), "timestamp": metric.timestamp,
            "step": metric.step}


def _dataset_input_json(item: DatasetInput) -> dict:
    d = item.dataset
    dataset = {"name": d.name, "digest": d.digest, "source_type": d.source_type, "source": d.source}
    if d.schema is not None:
        dataset["schema"] = d.schema
    if d.profile is not None:
        dataset["profile"] = d.profile
    return {"tags": [{"key": t.key, "value": t.value} for t in item.tags], "dataset": dataset}


def _inputs_json(inputs: RunInputs) -> dict:
    payload = {"dataset_inputs": [_dataset_input_json(d) for d in inputs.datasets]}
    if inputs.models:
        payload["model_inputs"] = [{"model_id": m.model_id} for m in inputs.models]
    return payload


def run_json(run: Run) -> dict:
    payload = {
        "info": run_info_json(run.info),
        "data": {
            "metrics": [
                {"key": key, "value": json_double(value), "timestamp": timestamp, "step": step}
                for key, value, timestamp, step in run.metrics
            ],
            "params": key_values_json(run.params),
            "tags": key_values_json(run.tags),
        },
        "inputs": _inputs_json(run.inputs),
    }
    if run.outputs:
        payload["outputs"] = {"model_outputs": [{"model_id": m.model_id, "step": m.step} for m in run.outputs]}
    return payload


def key_values_json(values: dict[str, str]) -> list[dict]:
    return [{"key": k, "value": v} for k, v in values.items()]


def logged_model_json(model: LoggedModel) -> dict:
    info = {
        "model_id": model.model_id,
        "experiment_id": str(model.experiment_id),
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp_ms,
        "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
        "artifact_uri": model.artifact_location,
        "status": LOGGED_MODEL_STATUS_NAMES.get(model.status, LOGGED_MODEL_STATUS_NAMES[0]),
    }
    if model.model_type is not None:
        info["model_type"] = model.model_type
    if model.source_run_id is not None:
        info["source_run_id"] = model.source_run_id
    if model.status_message is not None:
        info["status_message"] = model.status_message
    if model.tags:
        info["tags"] = key_values_json(model.tags)
    data = {"params": key_values_json(model.params)} if model.params else {}
    if model.metrics:
        data["metrics"] = [_model_metric_json(m) for m in model.metrics]
    return {"info": info, "data": data}


def _model_metric_json(m) -> dict:
    metric = {"key": m.key, "value": json_double(m.value), "timestamp": m.timestamp, "step": m.step,
              "model_id": m.model_id, "run_id": m.run_id}
    if m.dataset_name is not None:
        metric["dataset_name"] = m.dataset_name
    if m.dataset_digest is not None:
        metric["dataset_digest"] = m.dataset_digest
    return metric


def dataset_summary_json(summary: DatasetSummary) -> dict:
    payload = {"experiment_id": str(summary.experiment_id), "name": summary.name, "digest": summary.digest}
    if summary.context is not None:
        payload["context"] = summary.context
    return payload
