"""A team's history, logged to a source server by the stock client (MLFLOW_TRACKING_URI):
two experiments, 500-step histories with NaN and ±inf, a nested run, a failed and a deleted run,
folder and 5 MB artifacts, a dataset input, a logged pyfunc model, a registered model with two
versions and two aliases. Prints a JSON summary on its last line."""
import json
import math
import os
import sys
import tempfile
import time

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

STEPS = int(os.environ.get("POPULATE_STEPS", "500"))
BIG_BYTES = int(os.environ.get("POPULATE_BIG_BYTES", str(5 * 1024 * 1024)))
PREFIX = os.environ.get("POPULATE_PREFIX", "imp")
CI_JOB_ID = os.environ.get("POPULATE_CI_JOB_ID", "4242")


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


def history(client: MlflowClient, run_id: str, keys: list[str]) -> None:
    now = int(time.time() * 1000)
    points = []
    for step in range(STEPS):
        for n, key in enumerate(keys):
            value = 1.0 / (step + 1) + n
            if key == keys[0] and step == 7:
                value = math.nan
            if key == keys[0] and step == 8:
                value = math.inf
            if key == keys[0] and step == 9:
                value = -math.inf
            points.append(Metric(key, value, now + step, step))
    for start in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[start:start + 1000])


def main() -> None:
    client = MlflowClient()
    alpha = client.create_experiment(f"{PREFIX}-alpha", tags={"team": "vision", "purpose": "import test"})
    beta = client.create_experiment(f"{PREFIX}-beta")

    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "reports")
        os.makedirs(os.path.join(folder, "plots"))
        with open(os.path.join(folder, "summary.txt"), "w") as f:
            f.write("accuracy 0.93\n")
        with open(os.path.join(folder, "plots", "curve.csv"), "w") as f:
            f.write("step,loss\n" + "".join(f"{i},{1 / (i + 1)}\n" for i in range(50)))
        big = os.path.join(tmp, "weights.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(BIG_BYTES))

        mlflow.set_experiment(experiment_id=alpha)
        with mlflow.start_run(run_name="parent", tags={"stage": "train"}) as parent:
            mlflow.log_params({"lr": "0.01", "layers": "3"})
            client.log_batch(parent.info.run_id, params=[Param("optimizer", "adam")], tags=[RunTag("owner", "ana")])
            history(client, parent.info.run_id, ["loss", "accuracy"])
            mlflow.log_artifacts(folder, artifact_path="reports")
            mlflow.log_artifact(big, artifact_path="checkpoints")
            frame = pd.DataFrame({"x": np.arange(10), "y": np.arange(10) * 2.0})
            mlflow.log_input(mlflow.data.from_pandas(frame, source="s3://bucket/train.csv", name="train"),
                             context="training")
            with mlflow.start_run(run_name="child", nested=True) as child:
                mlflow.log_param("fold", "1")
                mlflow.set_tag("gitlab.CI_JOB_ID", CI_JOB_ID)  # GitLab's documented snippet
                history(client, child.info.run_id, ["val_loss"])
        failed = client.create_run(alpha, run_name="failed-run")
        client.log_param(failed.info.run_id, "lr", "0.5")
        client.log_metric(failed.info.run_id, "loss", 9.0, step=0)
        client.set_terminated(failed.info.run_id, status="FAILED")
        deleted = client.create_run(alpha, run_name="deleted-run")
        client.log_metric(deleted.info.run_id, "loss", 3.0, step=0)
        client.set_terminated(deleted.info.run_id)
        client.delete_run(deleted.info.run_id)

    mlflow.set_experiment(experiment_id=beta)
    with mlflow.start_run(run_name="modelling") as modelling:
        mlflow.log_param("kind", "doubler")
        mlflow.log_metric("rmse", 0.25)
        info = mlflow.pyfunc.log_model(name="model", python_model=Doubler(), pip_requirements=["mlflow"])
        mlflow.log_metric("val_rmse", 0.3, step=1, model_id=info.model_id)
    client.create_registered_model("doubler", tags={"domain": "math"}, description="doubles its input")
    v1 = client.create_model_version("doubler", info.model_uri, run_id=modelling.info.run_id,
                                     model_id=info.model_id, tags={"quality": "ok"}, description="first")
    v2 = client.create_model_version("doubler", info.model_uri, run_id=modelling.info.run_id,
                                     model_id=info.model_id, description="second")
    client.transition_model_version_stage("doubler", v1.version, "Staging")
    client.set_registered_model_alias("doubler", "champion", v2.version)
    client.set_registered_model_alias("doubler", "baseline", v1.version)
    print(json.dumps({
        "experiments": [alpha, beta], "parent": parent.info.run_id, "child": child.info.run_id,
        "failed": failed.info.run_id, "deleted": deleted.info.run_id, "modelling": modelling.info.run_id,
        "model_id": info.model_id,
    }))


if __name__ == "__main__":
    sys.exit(main())
