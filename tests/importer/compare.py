"""Source against target through the stock MLflow client, item by item."""
from __future__ import annotations

import hashlib
import math
import os
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

from tests.e2e.helpers import tracking_uri_env

IMPORT_TAGS = ("mltracker.import.",)


def _num(value):
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def _tags(tags: dict) -> dict:
    return {k: v for k, v in tags.items() if not k.startswith(IMPORT_TAGS)}


def _artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> dict:
    """path → (size, sha256) of every artifact file of the run."""
    found = {}
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            found.update(_artifacts(client, run_id, info.path))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                local = client.download_artifacts(run_id, info.path, tmp)
                with open(local, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            found[info.path] = (info.file_size, digest)
    return found


def snapshot(uri: str, experiment_names: list[str], with_models: bool = True) -> dict:
    """Everything the stock client can read of these experiments and of the registry."""
    with tracking_uri_env(uri):
        client = MlflowClient(uri)
        result = {"experiments": {}, "runs": {}, "logged_models": {}, "registered_models": {}}
        for name in experiment_names:
            experiment = client.get_experiment_by_name(name)
            assert experiment is not None, f"no experiment {name!r} at {uri}"
            result["experiments"][name] = {
                "tags": _tags(experiment.tags), "lifecycle_stage": experiment.lifecycle_stage,
                "creation_time": experiment.creation_time,
            }
            for run in client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL, max_results=1000):
                result["runs"][run.info.run_id] = _run(client, run, name)
            if with_models:
                for model in client.search_logged_models(experiment_ids=[experiment.experiment_id]):
                    result["logged_models"][model.model_id] = {
                        "experiment": name, "name": model.name, "source_run_id": model.source_run_id,
                        "status": str(model.status), "params": model.params, "tags": model.tags,
                        "model_type": model.model_type, "creation_timestamp": model.creation_timestamp,
                        "metrics": sorted((m.key, _num(m.value), m.step, m.timestamp, m.run_id)
                                          for m in client.get_logged_model(model.model_id).metrics or []),
                    }
        if with_models:
            for registered in client.search_registered_models():
                versions = client.search_model_versions(f"name='{registered.name}'")
                result["registered_models"][registered.name] = {
                    "description": registered.description, "tags": registered.tags,
                    "aliases": registered.aliases, "creation_timestamp": registered.creation_timestamp,
                    "versions": {
                        v.version: {
                            "description": v.description, "current_stage": v.current_stage, "tags": v.tags,
                            "run_id": v.run_id, "model_id": v.model_id, "source": v.source, "status": v.status,
                            "creation_timestamp": v.creation_timestamp, "user_id": v.user_id,
                        } for v in versions
                    },
                }
        return result


def _run(client: MlflowClient, run, experiment_name: str) -> dict:
    info = run.info
    histories = {
        key: [(m.step, m.timestamp, _num(m.value)) for m in client.get_metric_history(info.run_id, key)]
        for key in run.data.metrics
    }
    return {
        "experiment": experiment_name, "run_name": info.run_name, "status": info.status,
        "start_time": info.start_time, "end_time": info.end_time, "lifecycle_stage": info.lifecycle_stage,
        "user_id": info.user_id, "params": run.data.params, "tags": run.data.tags,
        "metrics": {k: _num(v) for k, v in run.data.metrics.items()},
        "histories": histories,
        "datasets": sorted(
            (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema,
             d.dataset.profile, tuple(sorted((t.key, t.value) for t in d.tags)))
            for d in run.inputs.dataset_inputs
        ),
        "model_outputs": sorted((o.model_id, o.step) for o in (run.outputs.model_outputs if run.outputs else [])),
        "artifacts": _artifacts(client, info.run_id),
    }


def predictions(uri: str, model_uri: str, frame):
    with tracking_uri_env(uri):
        return mlflow.pyfunc.load_model(model_uri).predict(frame)


def assert_same(source: dict, target: dict) -> None:
    """Item by item, so that a failure names the item that differs."""
    assert sorted(target["experiments"]) == sorted(source["experiments"])
    for name, expected in source["experiments"].items():
        assert target["experiments"][name] == expected, f"experiment {name}"
    assert sorted(target["runs"]) == sorted(source["runs"]), "run ids"
    for run_id, expected in source["runs"].items():
        got = target["runs"][run_id]
        for field in expected:
            assert got[field] == expected[field], f"run {run_id} ({expected['run_name']}): {field}"
    assert sorted(target["logged_models"]) == sorted(source["logged_models"]), "logged model ids"
    for model_id, expected in source["logged_models"].items():
        assert target["logged_models"][model_id] == expected, f"logged model {model_id}"
    assert sorted(target["registered_models"]) == sorted(source["registered_models"]), "registered models"
    for name, expected in source["registered_models"].items():
        assert target["registered_models"][name] == expected, f"registered model {name}"


__all__ = ["assert_same", "predictions", "snapshot", "os"]
