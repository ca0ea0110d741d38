"""Run by an MLflow 2.x interpreter (mlflow-skinny): the registry calls an MLflow 2 user makes.
Prints "OK" on success; any failure raises."""
import os
import sys
import tempfile

import mlflow
from mlflow import MlflowClient

assert mlflow.__version__.startswith("2."), mlflow.__version__
uri, name = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri, uri)
with mlflow.start_run() as run, tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "MLmodel"), "w") as f:
        f.write("flavors: {}\n")
    mlflow.log_artifacts(tmp, "model")
mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
assert mv.version == "1", mv
assert mv.source.endswith(f"{run.info.run_id}/artifacts/model"), mv.source
client.set_registered_model_alias(name, "champion", "1")
assert client.get_model_version_by_alias(name, "champion").version == "1"
second = client.create_model_version(name, mv.source, run_id=run.info.run_id, tags={"k": "v"})
assert second.version == "2" and second.tags == {"k": "v"}
client.transition_model_version_stage(name, "2", "Staging")
assert [v.version for v in client.get_latest_versions(name, ["Staging"])] == ["2"]
assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == ["2", "1"]
with tempfile.TemporaryDirectory() as out:
    path = mlflow.artifacts.download_artifacts(f"models:/{name}@champion", dst_path=out)
    assert open(os.path.join(path, "MLmodel")).read() == "flavors: {}\n"
client.delete_model_version(name, "2")
client.delete_registered_model(name)
print("OK")
