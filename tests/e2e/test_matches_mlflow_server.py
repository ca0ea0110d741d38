"""Differential test: the same train.py against the real `mlflow server` and against mltracker,
then the same reads through the same stock client; after normalising what must differ (ids,
wall-clock timestamps, the random name of the unnamed run), everything must be equal.

This is the proof of "gives exactly what mlflow server gives". SQLite on both sides, so that even
collation-dependent orderings are comparable.

MLflow's own server behaviours (its test suite's cases: validation messages, the web UI's endpoints,
bulk-interval sampling, model-version source rules, logged-model metrics) are checked side by side
with `mlflow server` in tests/mlflow_compat/, on both of mltracker's storage configurations.
"""
from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from tests.e2e.helpers import (
    ACTIVE,
    BAD_ORDER_BYS,
    BAD_RUN_FILTERS,
    EXTRA_DIFFERENTIAL_FILTERS,
    EXTRA_DIFFERENTIAL_ORDER_BYS,
    RUN_FILTERS,
    RUN_ORDERINGS,
    TRAIN_SCRIPT,
    Trained,
    fetch_trained,
    run_script,
    search_names,
    tracking_uri_env,
)

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("live_server", ["sqlite-local"], indirect=True)]

GENERATED = "<generated run name>"
NOW = "<wall clock>"

# Tags allowed to differ between the two servers. Deliberately empty: both servers receive the
# same tags from the same client (mlflow.user, mlflow.source.*, mlflow.runName, ...), and the
# only values that legitimately differ (run ids in mlflow.parentRunId, the generated run name in
# mlflow.runName) are normalised below instead of being excluded.
TAGS_ALLOWED_TO_DIFFER: set[str] = set()


def frozen_project(tmp: Path) -> Path:
    """train.py in a git repository of its own with one commit: the client tags runs with the
    script's path and commit (mlflow.source.*), which must be the same for both servers even
    while others commit to this checkout."""
    project = tmp / "project"
    project.mkdir()
    shutil.copy(TRAIN_SCRIPT, project / "train.py")
    git = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=project, check=True)
    subprocess.run([*git, "add", "train.py"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "train"], cwd=project, check=True)
    return project / "train.py"


@pytest.fixture(scope="module")
def pair(mlflow_server, live_server, tmp_path_factory):
    """(reference, candidate): the same train.py run once against each server."""
    script = frozen_project(tmp_path_factory.mktemp("frozen"))
    result = []
    for server in (mlflow_server, live_server):
        name = f"diff-{uuid.uuid4().hex[:8]}"
        summary = run_script(sys.executable, script, server.url, tmp_path_factory.mktemp("train"),
                             E2E_EXPERIMENT_NAME=name)
        with tracking_uri_env(server.url):
            result.append(fetch_trained(MlflowClient(server.url), server.url, summary))
    return tuple(result)


def number(value: float):
    """A comparable form of a float that keeps NaN and infinities distinct and exact."""
    return "nan" if math.isnan(value) else value.hex()


def timestamp(trained: Trained, ts: int):
    base = trained.summary["base_ts"]
    return ts if base <= ts < base + 1_000_000 else NOW  # explicit timestamps from train.py stay


def normalise_value(trained: Trained, value: str) -> str:
    for logical, run_id in trained.summary["runs"].items():
        value = value.replace(run_id, f"<run:{logical}>")
    unnamed = trained.runs["unnamed"].info.run_name
    return GENERATED if value == unnamed else value


def artifact_tree(client: MlflowClient, run_id: str, tmp: Path, path: str | None = None) -> list:
    entries = []
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            entries.append((info.path, "dir", info.file_size))
            entries.extend(artifact_tree(client, run_id, tmp, info.path))
        else:
            local = Path(client.download_artifacts(run_id, info.path, str(tmp / uuid.uuid4().hex)))
            entries.append((info.path, info.file_size, hashlib.sha256(local.read_bytes()).hexdigest()))
    return entries


def snapshot(trained: Trained, logical: str, tmp: Path) -> dict:
    """Everything the stock client shows about one run, normalised."""
    client = MlflowClient(trained.tracking_uri)
    with tracking_uri_env(trained.tracking_uri):
        run = client.get_run(trained.id(logical))
        info = run.info
        history = {
            key: [(m.step, number(m.value), timestamp(trained, m.timestamp))
                  for m in client.get_metric_history(info.run_id, key)]
            for key in run.data.metrics
        }
        return {
            "info": {
                "run_name": normalise_value(trained, info.run_name),
                "status": info.status,
                "lifecycle_stage": info.lifecycle_stage,
                "user_id": info.user_id,
                "ended_after_start": info.end_time >= info.start_time,
                "artifact_uri_scheme": info.artifact_uri.split(":", 1)[0],
            },
            "params": run.data.params,
            "metrics": {k: number(v) for k, v in run.data.metrics.items()},
            "history": history,
            "tags": {k: normalise_value(trained, v) for k, v in run.data.tags.items()
                     if k not in TAGS_ALLOWED_TO_DIFFER},
            "datasets": sorted(
                (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema,
                 d.dataset.profile, tuple(sorted((t.key, t.value) for t in d.tags)))
                for d in run.inputs.dataset_inputs
            ),
            "artifacts": artifact_tree(client, info.run_id, tmp),
        }


@pytest.mark.parametrize("logical", ACTIVE + ["discarded"])
def test_run_matches(pair, logical, tmp_path):
    reference, candidate = pair
    expected = snapshot(reference, logical, tmp_path / "ref")
    actual = snapshot(candidate, logical, tmp_path / "cand")
    differing = [part for part in expected if actual[part] != expected[part]]
    assert {p: actual[p] for p in differing} == {p: expected[p] for p in differing}


def test_experiment_matches(pair):
    def view(trained):
        exp = MlflowClient(trained.tracking_uri).get_experiment(trained.experiment_id)
        return {"tags": exp.tags, "lifecycle_stage": exp.lifecycle_stage,
                "name_matches": exp.name == trained.summary["experiment_name"]}

    reference, candidate = pair
    assert view(candidate) == view(reference)


def _search(trained: Trained, filter_string="", order_by=None, view=ViewType.ACTIVE_ONLY):
    names = search_names(MlflowClient(trained.tracking_uri), trained, filter_string, order_by=order_by,
                         run_view_type=view)
    return names


FILTERS = [f for f, _ in RUN_FILTERS] + EXTRA_DIFFERENTIAL_FILTERS


@pytest.mark.parametrize("view", [ViewType.ACTIVE_ONLY, ViewType.ALL, ViewType.DELETED_ONLY],
                         ids=["active", "all", "deleted"])
@pytest.mark.parametrize("filter_string", FILTERS, ids=[f or "<empty>" for f in FILTERS])
def test_search_runs_filter_matches(pair, filter_string, view):
    reference, candidate = pair
    assert _search(candidate, filter_string, view=view) == _search(reference, filter_string, view=view)


ORDERINGS = [(f, o) for f, o, _ in RUN_ORDERINGS] + EXTRA_DIFFERENTIAL_ORDER_BYS


@pytest.mark.parametrize(("filter_string", "order_by"), ORDERINGS, ids=[f"{f}|{','.join(o)}" for f, o in ORDERINGS])
def test_search_runs_order_matches(pair, filter_string, order_by):
    reference, candidate = pair
    assert _search(candidate, filter_string, order_by) == _search(reference, filter_string, order_by)
    assert _search(candidate, filter_string, order_by, ViewType.ALL) == _search(
        reference, filter_string, order_by, ViewType.ALL)


@pytest.mark.parametrize("max_results", [1, 3])
def test_search_runs_pages_match(pair, max_results):
    def pages(trained):
        client, out, token = MlflowClient(trained.tracking_uri), [], None
        while True:
            page = client.search_runs([trained.experiment_id], max_results=max_results, page_token=token,
                                      run_view_type=ViewType.ALL, order_by=["metrics.loss DESC"])
            out.append([trained.logical_name(r.info.run_id) for r in page])
            token = page.token
            if not token:
                return out

    reference, candidate = pair
    assert pages(candidate) == pages(reference)


@pytest.mark.parametrize("max_results", [1, 25, 120])
def test_metric_history_pages_match(pair, max_results):
    def pages(trained):
        store = MlflowClient(trained.tracking_uri)._tracking_client.store
        out, token = [], None
        while True:
            page = store.get_metric_history(trained.id("baseline"), "batch_loss", max_results=max_results,
                                            page_token=token)
            out.append([m.step for m in page])
            token = page.token
            if not token:
                return out

    reference, candidate = pair
    assert pages(candidate) == pages(reference)


def _error(call):
    try:
        call()
    except MlflowException as exc:
        return exc.error_code, exc.get_http_status_code()
    return None


BAD_CALLS = [(f"filter: {f}", {"filter_string": f}) for f, _ in BAD_RUN_FILTERS] + [
    (f"order_by: {o}", {"order_by": o}) for o, _ in BAD_ORDER_BYS] + [
    ("max_results: 0", {"max_results": 0}), ("max_results: 50001", {"max_results": 50001}),
    ("page_token: garbage", {"page_token": "not-a-token"}),
]


@pytest.mark.parametrize(("label", "kwargs"), BAD_CALLS, ids=[label for label, _ in BAD_CALLS])
def test_search_errors_match(pair, label, kwargs):
    def error(trained):
        client = MlflowClient(trained.tracking_uri)
        kw = {"filter_string": "", **kwargs}
        kw["filter_string"] = kw["filter_string"].format(**trained.placeholders())
        return _error(lambda: client.search_runs([trained.experiment_id], **kw))

    reference, candidate = pair
    expected = error(reference)
    assert expected is not None, f"mlflow server accepted {label}"
    assert error(candidate) == expected


def test_dataframe_matches(pair):
    import mlflow

    def frame(trained):
        with tracking_uri_env(trained.tracking_uri):
            df = mlflow.search_runs(experiment_ids=[trained.experiment_id], order_by=["attributes.start_time ASC"])
        # the order of the metrics./params./tags. columns follows the order of keys in the JSON,
        # which is not part of MLflow's contract; the columns, their types and the rows are
        return {column: str(dtype) for column, dtype in df.dtypes.items()}, list(df.columns[:6]), len(df)

    reference, candidate = pair
    assert frame(candidate) == frame(reference)


# Raw REST calls, most of them rejected by MLflow: the same HTTP status and error_code from both
# servers, and the same state of the target run afterwards ({run}: a fresh run with param lr=0.1
# and tag t=v; {deleted}: a deleted run). Unknown endpoints: mlflow server answers with Flask's
# HTML 404, mltracker with MLflow's JSON ENDPOINT_NOT_FOUND; only the status is compared there.
RAW_CALLS = [
    ("GET", "/api/2.0/mlflow/runs/get", {"run_id": "0" * 32}),
    ("GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": "987654321"}),
    ("GET", "/api/2.0/mlflow/experiments/get-by-name", {"experiment_name": "no-such-experiment-xyz"}),
    ("GET", "/api/2.0/mlflow/metrics/get-history", {"run_id": "0" * 32, "metric_key": "loss"}),
    ("GET", "/api/2.0/mlflow/metrics/get-history", {"run_id": "{run}", "metric_key": "loss", "max_results": "0"}),
    ("POST", "/api/2.0/mlflow/experiments/create", {}),
    ("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "987654321"}),
    ("POST", "/api/2.0/mlflow/runs/log-metric", {"run_id": "{run}", "key": "x", "value": "abc", "timestamp": 1}),
    ("POST", "/api/2.0/mlflow/runs/log-metric", {"run_id": "{run}", "key": "../x", "value": 1, "timestamp": 1}),
    ("POST", "/api/2.0/mlflow/runs/log-metric", {"run_id": "{run}", "key": "x", "value": 1}),
    ("POST", "/api/2.0/mlflow/runs/log-parameter", {"run_id": "{run}", "key": "lr", "value": "0.9"}),
    ("POST", "/api/2.0/mlflow/runs/log-parameter", {"run_id": "{run}", "key": "lr", "value": "0.1"}),
    ("POST", "/api/2.0/mlflow/runs/log-parameter", {"run_id": "{run}", "key": "big", "value": "x" * 6001}),
    ("POST", "/api/2.0/mlflow/runs/log-parameter", {"run_id": "{run}", "key": "k" * 251, "value": "1"}),
    ("POST", "/api/2.0/mlflow/runs/set-tag", {"run_id": "{run}", "key": "big", "value": "y" * 8001}),
    ("POST", "/api/2.0/mlflow/runs/set-tag", {"run_id": "{deleted}", "key": "t", "value": "v"}),
    ("POST", "/api/2.0/mlflow/runs/log-batch",
     {"run_id": "{run}", "metrics": [{"key": f"m{i}", "value": 1, "timestamp": 1, "step": 0} for i in range(1001)]}),
    ("POST", "/api/2.0/mlflow/runs/log-batch",
     {"run_id": "{run}", "params": [{"key": f"p{i}", "value": "1"} for i in range(101)]}),
    ("POST", "/api/2.0/mlflow/runs/log-batch",
     {"run_id": "{run}", "params": [{"key": "lr", "value": "0.1"}, {"key": "lr", "value": "0.2"}]}),
    ("POST", "/api/2.0/mlflow/runs/delete-tag", {"run_id": "{run}", "key": "never-set"}),
    ("POST", "/api/2.0/mlflow/runs/update", {"run_id": "{run}", "status": "NOT_A_STATUS"}),
    ("GET", "/api/2.0/mlflow/no/such/endpoint", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), RAW_CALLS, ids=[f"{m} {p}" for m, p, _ in RAW_CALLS])
def test_raw_calls_match(pair, method, path, body):
    def call(trained):
        client = MlflowClient(trained.tracking_uri)
        scratch = client.create_experiment(f"scratch-{uuid.uuid4().hex[:8]}")  # not the trained one
        run = client.create_run(scratch, run_name="scratch", tags={"t": "v"}).info.run_id
        client.log_param(run, "lr", "0.1")
        deleted = client.create_run(scratch, run_name="scratch-deleted").info.run_id
        client.delete_run(deleted)
        filled = {k: (v.format(run=run, deleted=deleted) if isinstance(v, str) else v) for k, v in body.items()}
        if method == "GET":
            response = requests.get(trained.tracking_uri + path, params=filled, timeout=60)
        else:
            response = requests.post(trained.tracking_uri + path, json=filled, timeout=60)
        try:
            code = response.json().get("error_code")
        except ValueError:
            code = "<not JSON>"
        if path.endswith("/no/such/endpoint"):
            code = None
        after = client.get_run(run).data
        return {"status": response.status_code, "error_code": code, "params": after.params,
                "metrics": {k: number(v) for k, v in after.metrics.items()},
                "tags": {k: v for k, v in after.tags.items() if k != "mlflow.runName"}}

    reference, candidate = pair
    assert call(candidate) == call(reference)
