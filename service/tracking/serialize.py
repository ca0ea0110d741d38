"""Rows to MLflow's JSON shapes (proto3 JSON: doubles NaN/Infinity as strings, ids as strings)."""
from __future__ import annotations

import math


def json_double(value: float, is_nan: bool = False):
    if is_nan or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def experiment_json(row, tag_list: list[dict]) -> dict:
    return {
        "experiment_id": str(row.experiment_id),
        "name": row.name,
        "artifact_location": row.artifact_location,
        "lifecycle_stage": row.lifecycle_stage,
        "last_update_time": row.last_update_time,
        "creation_time": row.creation_time,
        "tags": tag_list,
    }


def run_info_json(row) -> dict:
    info = {
        "run_id": row.run_uuid,
        "run_uuid": row.run_uuid,
        "run_name": row.name,
        "experiment_id": str(row.experiment_id),
        "user_id": row.user_id,
        "status": row.status,
        "start_time": row.start_time,
        "artifact_uri": row.artifact_uri,
        "lifecycle_stage": row.lifecycle_stage,
    }
    if row.end_time is not None:
        info["end_time"] = row.end_time
    return info
