"""An MLflow 2.x client (mlflow-skinny, its own virtualenv: `make mlflow2-client`) logs through
mltracker; the 3.x client reads the result back."""
from __future__ import annotations

import hashlib
import math
import os
import sys
import uuid
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.e2e.helpers import HERE, IN_CI, run_script, tracking_uri_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def mlflow2_python() -> str:
    python = os.environ.get("MLTRACKER_MLFLOW2_PYTHON")
    if not python:
        message = "MLTRACKER_MLFLOW2_PYTHON is not set (`make test` sets it after `make mlflow2-client`)"
        if IN_CI:
            pytest.fail(f"{message}; CI=true: the MLflow 2.x compatibility test must run")
        pytest.skip(message)
    if not Path(python).is_file():
        pytest.fail(f"MLTRACKER_MLFLOW2_PYTHON={python} does not exist; run `make mlflow2-client`")
    return python


@pytest.fixture(scope="module")
def v2_run(live_server, mlflow2_python, tmp_path_factory):
    name = f"mlflow2-{uuid.uuid4().hex[:8]}"
    summary = run_script(mlflow2_python, HERE / "train_mlflow2.py", live_server.url,
                         tmp_path_factory.mktemp("mlflow2"), E2E_EXPERIMENT_NAME=name)
    summary["experiment_name"] = name
    return summary


@pytest.fixture
def client3(live_server):
    with tracking_uri_env(live_server.url):
        yield MlflowClient(live_server.url)


def test_really_an_mlflow2_client(v2_run):
    assert v2_run["version"].startswith("2."), v2_run["version"]


def test_runs_seen_by_the_3x_client(v2_run, client3):
    runs = v2_run["runs"]
    exp = client3.get_experiment_by_name(v2_run["experiment_name"])
    assert exp.experiment_id == v2_run["experiment_id"]
    assert exp.tags["client"] == "mlflow2"

    parent = client3.get_run(runs["parent"])
    assert parent.info.run_name == "v2-parent" and parent.info.status == "FINISHED"
    assert parent.data.params == {"lr": "0.1", "optimizer": "sgd", "epochs": "3"}
    tags = parent.data.tags
    assert tags["client"] == "mlflow2" and tags["stage"] == "dev" and tags["version"] == v2_run["version"]
    assert tags["mlflow.runName"] == "v2-parent"
    metrics = parent.data.metrics
    assert metrics["loss"] == pytest.approx(1 / 3) and metrics["accuracy"] == pytest.approx(0.7)
    assert math.isnan(metrics["nan_metric"])
    assert metrics["inf_metric"] in (math.inf, sys.float_info.max)  # MLflow's SQL store clamps to DBL_MAX
    history = client3.get_metric_history(runs["parent"], "loss")
    assert [(m.step, m.value) for m in history] == [(s, pytest.approx(1 / (s + 1))) for s in range(3)]

    (dataset_input,) = parent.inputs.dataset_inputs
    assert (dataset_input.dataset.name, dataset_input.dataset.digest) == ("v2-data", "d1g3st")
    assert {t.key: t.value for t in dataset_input.tags} == {"mlflow.data.context": "training"}

    child = client3.get_run(runs["child"])
    assert child.data.tags["mlflow.parentRunId"] == runs["parent"]
    assert child.data.metrics == {"child_metric": 42.0}

    unnamed = client3.get_run(runs["unnamed"])
    assert unnamed.info.run_name and unnamed.data.tags["mlflow.runName"] == unnamed.info.run_name

    assert client3.get_run(runs["failed"]).info.status == "FAILED"
    assert v2_run["search"] == [runs["parent"]]  # the 2.x client's own search_runs


def test_artifacts_logged_by_the_2x_client(v2_run, client3, tmp_path):
    run_id = v2_run["runs"]["parent"]
    root = {(a.path, a.is_dir) for a in client3.list_artifacts(run_id)}
    assert root == {("report.txt", False), ("out", True), ("config.json", False), ("notes", True)}
    local = Path(client3.download_artifacts(run_id, "", str(tmp_path)))
    assert (local / "report.txt").read_text() == "mlflow 2 report\n"
    assert (local / "out" / "a.txt").read_text() == "a"
    blob = (local / "out" / "nested" / "b.bin").read_bytes()
    assert hashlib.sha256(blob).digest() == hashlib.sha256(bytes(range(256)) * 40).digest()
    assert (local / "notes" / "hello.txt").read_text() == "hello from 2.x"
    assert (local / "config.json").read_text().strip().startswith("{")


def test_2x_client_reads_what_the_3x_client_wrote(live_server, mlflow2_python, client3, tmp_path):
    exp = client3.create_experiment(f"from-3x-{uuid.uuid4().hex[:8]}")
    run = client3.create_run(exp, run_name="written-by-3x")
    client3.log_param(run.info.run_id, "p", "v")
    client3.log_metric(run.info.run_id, "m", 2.5, step=7)
    client3.log_text(run.info.run_id, "text from 3.x", "t.txt")
    client3.set_terminated(run.info.run_id)
    reader = tmp_path / "read.py"
    reader.write_text(
        "import json, sys, mlflow\n"
        "from mlflow import MlflowClient\n"
        "c = MlflowClient()\n"
        f"r = c.get_run({run.info.run_id!r})\n"
        f"h = c.get_metric_history({run.info.run_id!r}, 'm')\n"
        f"t = mlflow.artifacts.load_text('runs:/{run.info.run_id}/t.txt')\n"
        f"s = c.search_runs([{exp!r}], filter_string=\"params.p = 'v'\")\n"
        "print(json.dumps({'name': r.info.run_name, 'status': r.info.status, 'params': r.data.params,"
        " 'history': [[m.step, m.value] for m in h], 'text': t, 'found': [x.info.run_id for x in s]}))\n"
    )
    got = run_script(mlflow2_python, reader, live_server.url, tmp_path)
    assert got == {"name": "written-by-3x", "status": "FINISHED", "params": {"p": "v"}, "history": [[7, 2.5]],
                   "text": "text from 3.x", "found": [run.info.run_id]}
