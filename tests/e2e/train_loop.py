"""A training loop as users write it: one fluent call per step for the metric, a param per step,
a tag rewritten every step and a new one per step. With MLFLOW_ENABLE_ASYNC_LOGGING=true the client queues the calls
and sends them as log-batch requests in the background; ending the run waits for the queue.
Prints a JSON summary (the run id) on its last line."""
from __future__ import annotations

import json
import os

import mlflow

STEPS = int(os.environ.get("TRAIN_LOOP_STEPS", "300"))

mlflow.set_experiment(os.environ["E2E_EXPERIMENT_NAME"])
with mlflow.start_run() as run:
    for step in range(STEPS):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("accuracy", step / STEPS, step=step)
        mlflow.log_param(f"layer_{step}", f"width-{step}")
        mlflow.set_tag("epoch", str(step))
        mlflow.set_tag(f"checkpoint_{step}", f"ckpt-{step}.pt")
print(json.dumps({"run_id": run.info.run_id, "steps": STEPS}))
