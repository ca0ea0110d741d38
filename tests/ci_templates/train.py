"""A data scientist's unchanged training script: the stock MLflow client, configured only by the
environment the tracking component gives the job. VALUE and METRIC come from the test."""
import json
import os

import mlflow

metric = os.environ.get("METRIC", "val_loss")
value = float(os.environ.get("VALUE", "0.3"))
with mlflow.start_run() as run:
    mlflow.log_param("lr", 0.01)
    for epoch in range(3):
        mlflow.log_metric(metric, value + (2 - epoch) * 0.1 * (1 if "loss" in metric else -1), step=epoch)
print(json.dumps({"run_id": run.info.run_id, "experiment_id": run.info.experiment_id}))
