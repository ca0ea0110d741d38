"""A user script for an MLflow 2.x client (mlflow-skinny: no pandas, numpy or matplotlib).

Fluent API with MLFLOW_TRACKING_URI from the environment; the dataset input goes through
MlflowClient.log_inputs with plain entities (mlflow.data needs numpy). Prints a JSON summary.
"""
from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag

EXPERIMENT = os.environ.get("E2E_EXPERIMENT_NAME", "e2e-mlflow2")


def main() -> dict:
    experiment = mlflow.set_experiment(EXPERIMENT)
    mlflow.set_experiment_tags({"client": "mlflow2"})
    runs = {}
    with mlflow.start_run(run_name="v2-parent") as parent:
        runs["parent"] = parent.info.run_id
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"optimizer": "sgd", "epochs": 3})
        mlflow.set_tag("client", "mlflow2")
        mlflow.set_tags({"stage": "dev", "version": mlflow.__version__})
        for step in range(3):
            mlflow.log_metrics({"loss": 1.0 / (step + 1), "accuracy": 0.5 + step * 0.1}, step=step)
        mlflow.log_metric("nan_metric", math.nan)
        mlflow.log_metric("inf_metric", math.inf)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "report.txt").write_text("mlflow 2 report\n")
            mlflow.log_artifact(str(tmp / "report.txt"))
            (tmp / "out" / "nested").mkdir(parents=True)
            (tmp / "out" / "a.txt").write_text("a")
            (tmp / "out" / "nested" / "b.bin").write_bytes(bytes(range(256)) * 40)
            mlflow.log_artifacts(str(tmp / "out"), artifact_path="out")
        mlflow.log_dict({"lr": 0.1}, "config.json")
        mlflow.log_text("hello from 2.x", "notes/hello.txt")
        MlflowClient().log_inputs(parent.info.run_id, [DatasetInput(
            Dataset(name="v2-data", digest="d1g3st", source_type="http",
                    source=json.dumps({"url": "https://example.com/v2.csv"})),
            tags=[InputTag("mlflow.data.context", "training")])])
        with mlflow.start_run(run_name="v2-child", nested=True) as child:
            runs["child"] = child.info.run_id
            mlflow.log_metric("child_metric", 42.0)
    with mlflow.start_run() as unnamed:
        runs["unnamed"] = unnamed.info.run_id
        mlflow.log_metric("x", 1.0)
    mlflow.start_run(run_name="v2-failed")
    runs["failed"] = mlflow.active_run().info.run_id
    mlflow.end_run(status="FAILED")
    found = mlflow.search_runs(experiment_ids=[experiment.experiment_id], output_format="list",
                               filter_string="params.optimizer = 'sgd'")
    return {"experiment_id": experiment.experiment_id, "runs": runs, "version": mlflow.__version__,
            "search": [r.info.run_id for r in found]}


if __name__ == "__main__":
    summary = main()
    sys.stdout.write("\n" + json.dumps(summary) + "\n")
