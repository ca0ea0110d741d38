"""The MLflow JSON of registered scorers: the Scorer message, and RegisterScorer's answer."""
from __future__ import annotations

from mltracker.service.scorers.store import ScorerVersion


def scorer_json(found: ScorerVersion) -> dict:
    """MLflow's Scorer message (experiment_id as a number, as mlflow server answers it)."""
    return {"experiment_id": found.experiment_id, "scorer_name": found.name, "scorer_version": found.version,
            "serialized_scorer": found.serialized, "creation_time": found.creation_time,
            "scorer_id": found.scorer_id}


def registered_json(created: ScorerVersion) -> dict:
    return {"version": created.version, "scorer_id": created.scorer_id, "experiment_id": str(created.experiment_id),
            "name": created.name, "serialized_scorer": created.serialized, "creation_time": created.creation_time}
