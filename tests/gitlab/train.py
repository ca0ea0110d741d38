"""The unchanged training script of a data scientist: the stock MLflow client, configured only by
the environment the CI component provides (MLFLOW_TRACKING_URI, _TOKEN, _EXPERIMENT_NAME)."""
import json
import os

import mlflow

val_loss = float(os.environ.get("VAL_LOSS", "0.3"))
with mlflow.start_run(run_name=os.environ.get("RUN_NAME")) as run:
    mlflow.log_param("lr", 0.01)
    for epoch in range(3):
        mlflow.log_metric("val_loss", val_loss + (2 - epoch) * 0.1, step=epoch)
print(json.dumps({"run_id": run.info.run_id, "experiment_id": run.info.experiment_id}))
