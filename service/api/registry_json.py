"""Registered models and model versions in MLflow's registry JSON, as its server writes them:
int64 timestamps as numbers, versions as strings, optional fields left out when unset, empty lists
left out."""
from __future__ import annotations

from mltracker.service.api.mlflow_json import key_values_json
from mltracker.service.registry.records import ModelVersion, RegisteredModel


def _put(payload: dict, key: str, value) -> None:
    if value is not None:
        payload[key] = value


def model_version_json(version: ModelVersion) -> dict:
    payload = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_time,
        "last_updated_timestamp": version.last_updated_time,
    }
    _put(payload, "user_id", version.user_id)
    payload["current_stage"] = version.current_stage
    _put(payload, "description", version.description)
    payload["source"] = version.source
    payload["run_id"] = version.run_id or ""  # as mlflow server: a version made without a run has ""
    payload["status"] = version.status
    if version.status_message:
        payload["status_message"] = version.status_message
    if version.tags:
        payload["tags"] = key_values_json(version.tags)
    _put(payload, "run_link", version.run_link)
    if version.aliases:
        payload["aliases"] = list(version.aliases)
    _put(payload, "model_id", version.model_id)
    return payload


def registered_model_json(model: RegisteredModel) -> dict:
    payload = {"name": model.name, "creation_timestamp": model.creation_time}
    if model.last_updated_time:
        payload["last_updated_timestamp"] = model.last_updated_time
    if model.description:
        payload["description"] = model.description
    if model.latest_versions:
        payload["latest_versions"] = [model_version_json(v) for v in model.latest_versions]
    if model.tags:
        payload["tags"] = key_values_json(model.tags)
    if model.aliases:
        payload["aliases"] = [{"alias": alias, "version": str(version)} for alias, version in model.aliases]
    return payload
