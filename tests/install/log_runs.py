"""What a new user logs first, with the stock mlflow client (MLFLOW_TRACKING_URI from the environment).

Prints a JSON summary as its last line.
"""
import json
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

mlflow.set_experiment("first-steps")
ids = []
for name, c in (("logreg-C1", 1.0), ("logreg-C2", 2.0)):
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_param("C", c)
        for step in range(5):
            mlflow.log_metric("accuracy", 0.8 + 0.02 * step + 0.01 * c, step=step)
        frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
        mlflow.log_input(mlflow.data.from_pandas(frame, name="train"), context="training")
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "notes.txt").write_text(f"C={c}\n")
            mlflow.log_artifact(str(Path(tmp) / "notes.txt"))
        ids.append(run.info.run_id)

client = mlflow.MlflowClient()
client.create_registered_model("first-model")
version = client.create_model_version("first-model", f"runs:/{ids[0]}/model", run_id=ids[0])
print(json.dumps({
    "experiment_id": run.info.experiment_id, "run_ids": ids,
    "model": "first-model", "version": int(version.version),
}))
