"""A model registry kept in GitLab's built-in tracker, written by the stock client with GitLab's
documented snippets (doc/user/project/ml/experiment_tracking/mlflow_client.md, "Model registry"):
a model, three versions — two with their semantic version as the `gitlab.version` tag, one left to
GitLab's auto-increment — and each version's files logged to the run GitLab made for it (a pyfunc
model saved flat: GitLab's log_artifacts takes no directories). MLFLOW_TRACKING_URI and
MLFLOW_TRACKING_TOKEN point at GitLab. Prints a JSON summary on its last line."""
import json
import os
import sys
import tempfile

import mlflow
from mlflow import MlflowClient

MODEL = os.environ.get("POPULATE_MODEL", "gl-scaler")


class Scaler(mlflow.pyfunc.PythonModel):
    def __init__(self, factor: float):
        self.factor = factor

    def predict(self, context, model_input, params=None):
        return model_input * self.factor


def main() -> None:
    client = MlflowClient()
    client.create_registered_model(MODEL, description="scales its input")
    versions = {}
    for factor, tags in ((2.0, {"gitlab.version": "1.0.0"}), (3.0, {"gitlab.version": "1.2.0", "quality": "good"}),
                         (4.0, {})):
        version = client.create_model_version(MODEL, source="", description=f"times {factor:g}", tags=tags)
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "model")
            mlflow.pyfunc.save_model(folder, python_model=Scaler(factor), pip_requirements=["mlflow"])
            client.log_artifacts(version.run_id, folder)
        versions[version.version] = {"factor": factor, "run_id": version.run_id, "semver": version.aliases[0]}
    print(json.dumps({"model": MODEL, "versions": versions}))


if __name__ == "__main__":
    sys.exit(main())
