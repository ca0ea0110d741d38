"""The endpoints MLflow's web UI calls, answered as `mlflow server` answers them: the same data is
logged through the stock client to both servers, then the same requests are compared."""
from __future__ import annotations

import math
import uuid

import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e

AJAX = "/ajax-api/2.0/mlflow"


def _histories() -> dict[str, list[tuple[float, int, int]]]:
    """(value, timestamp, step) per logical run: long, repeated steps with NaN, sparse."""
    long = [(1.0 / (i + 1), 1_000_000 + i, i) for i in range(1000)]
    repeated = [(float(i), 2_000_000 + i, i // 5) for i in range(37)]
    repeated[4] = (math.nan, repeated[4][1], repeated[4][2])
    repeated += [(0.5, 1_999_000 + i, 0) for i in range(4)]
    sparse = [(float(s), 3_000_000 + s, s) for s in (0, 3, 4, 90, 91, 92, 500, 999, 1000, 5000)]
    return {"long": long, "repeated": repeated, "sparse": sparse}


def _plain(value):
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


class Logged:
    """What was logged to one server: its URL, the experiment, and logical run name → run id."""

    def __init__(self, url: str):
        self.url = url
        self.client = MlflowClient(url)
        with tracking_uri_env(url):
            self.experiment_id = self.client.create_experiment(f"ui-{uuid.uuid4().hex[:8]}")
            self.runs = {}
            for name, points in _histories().items():
                run_id = self.client.create_run(self.experiment_id, run_name=name).info.run_id
                metrics = [Metric("loss", v, t, s) for v, t, s in points]
                for start in range(0, len(metrics), 1000):
                    self.client.log_batch(run_id, metrics=metrics[start:start + 1000])
                self.runs[name] = run_id
            self.names = {run_id: name for name, run_id in self.runs.items()}

    def get(self, path: str, params) -> requests.Response:
        return requests.get(self.url + path, params=params, timeout=60)

    def normalized(self, response: requests.Response) -> list[dict]:
        """Run ids replaced by the logical names, points grouped by run in that order (both servers
        order by run id, which differ), NaN as a string (mlflow server writes a bare NaN here)."""
        assert response.status_code == 200, response.text
        points = [{**m, "run_id": self.names[m["run_id"]], "value": _plain(m["value"])}
                  for m in response.json().get("metrics", [])]
        return sorted(points, key=lambda m: m["run_id"])


@pytest.fixture(scope="module")
def reference(mlflow_server) -> Logged:
    return Logged(mlflow_server.url)


@pytest.fixture
def candidate(mltracker, request) -> Logged:
    cache = request.config.cache_logged = getattr(request.config, "cache_logged", {})
    if mltracker.url not in cache:
        cache[mltracker.url] = Logged(mltracker.url)
    return cache[mltracker.url]


INTERVAL_QUERIES = [
    {"max_results": 1},
    {"max_results": 2},
    {"max_results": 3},
    {"max_results": 7},
    {"max_results": 10},
    {"max_results": 320},
    {},
    {"max_results": 5, "start_step": 2, "end_step": 6},
    {"max_results": 4, "start_step": 100, "end_step": 950},
    {"max_results": 50, "start_step": 0, "end_step": 0},
    {"max_results": 3, "start_step": 6000, "end_step": 7000},
]


@pytest.mark.parametrize("query", INTERVAL_QUERIES, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()) or "default")
def test_history_bulk_interval_samples_the_same_points(reference, candidate, query):
    answers = []
    for logged in (reference, candidate):
        params = [("run_ids", logged.runs[n]) for n in ("long", "repeated", "sparse")]
        params += [("metric_key", "loss"), *query.items()]
        answers.append(logged.normalized(logged.get(AJAX + "/metrics/get-history-bulk-interval", params)))
    assert answers[1] == answers[0]


@pytest.mark.parametrize("names,max_results", [(["long"], None), (["repeated", "sparse"], None),
                                               (["long"], 17), (["sparse"], 3)])
def test_history_bulk_returns_the_same_points(reference, candidate, names, max_results):
    answers = []
    for logged in (reference, candidate):
        params = [("run_id", logged.runs[n]) for n in names] + [("metric_key", "loss")]
        if max_results:
            params.append(("max_results", max_results))
        answers.append(logged.normalized(logged.get(AJAX + "/metrics/get-history-bulk", params)))
    assert answers[1] == answers[0]


BULK_ERRORS = [
    ([("metric_key", "loss")], "GetMetricHistoryBulk request must specify at least one run_id."),
    ([("run_id", "a")], "GetMetricHistoryBulk request must specify a metric_key."),
    ([("run_id", str(i)) for i in range(101)] + [("metric_key", "loss")],
     "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids."),
]


@pytest.mark.parametrize("params,message", BULK_ERRORS)
def test_history_bulk_errors(side_by_side, params, message):
    response = requests.get(side_by_side.url + AJAX + "/metrics/get-history-bulk", params=params, timeout=30)
    assert response.status_code == 400
    assert response.json()["message"] == message


INTERVAL_ERRORS = [
    ([("metric_key", "loss")], "Missing value for required parameter 'run_ids'. See the API docs for more "
                               "information about request parameters."),
    ([("run_ids", "a"), ("metric_key", "loss"), ("max_results", 0)],
     "max_results must be between 1 and 2500. See the API docs for more information about request parameters."),
    ([("run_ids", "a"), ("metric_key", "loss"), ("max_results", 2501)],
     "max_results must be between 1 and 2500. See the API docs for more information about request parameters."),
    ([("run_ids", "a"), ("metric_key", "loss"), ("start_step", 3)],
     "If either start step or end step are specified, both must be specified."),
    ([("run_ids", "a"), ("metric_key", "loss"), ("start_step", 3), ("end_step", 2)],
     "end_step must be greater than start_step. Found start_step=3 and end_step=2."),
    ([("run_ids", str(i)) for i in range(101)] + [("metric_key", "loss")],
     "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids. See the "
     "API docs for more information about request parameters."),
]


@pytest.mark.parametrize("params,message", INTERVAL_ERRORS)
def test_history_bulk_interval_errors(side_by_side, params, message):
    response = requests.get(side_by_side.url + AJAX + "/metrics/get-history-bulk-interval", params=params,
                            timeout=30)
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_history_bulk_interval_for_100_runs(side_by_side):
    """MLflow's UI comparing 100 runs: 100 run ids in one request line (over gunicorn's default limit)."""
    client = MlflowClient(side_by_side.url)
    experiment_id = client.create_experiment(f"hundred-{uuid.uuid4().hex[:8]}")
    run_ids = []
    for i in range(100):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_metric(run_id, "a rather long metric name/val_loss", float(i), timestamp=i, step=i)
        run_ids.append(run_id)
    params = [("run_ids", r) for r in run_ids] + [("metric_key", "a rather long metric name/val_loss"),
                                                  ("max_results", 320)]
    response = requests.get(side_by_side.url + "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
                            params=params, timeout=60)
    assert len(response.request.url) > 4094
    assert response.status_code == 200, response.text[:300]
    assert sorted((m["run_id"], m["value"]) for m in response.json()["metrics"]) == sorted(
        (r, float(i)) for i, r in enumerate(run_ids))


THOUSAND_RUN_IDS = [
    ("/metrics/get-history-bulk", "run_id",
     "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 1000 run_ids."),
    ("/metrics/get-history-bulk-interval", "run_ids",
     "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 1000 run_ids. See the "
     "API docs for more information about request parameters."),
]


@pytest.mark.parametrize("path,key,message", THOUSAND_RUN_IDS)
def test_a_thousand_run_ids_get_the_apis_own_answer(side_by_side, path, key, message):
    """~15 KB of query string: past any request-line limit of gunicorn's but one, the API answers."""
    params = [(key, f"id_{i}") for i in range(1000)] + [("metric_key", "loss")]
    response = requests.get(side_by_side.url + AJAX + path, params=params, timeout=60)
    assert len(response.request.url) > 8190
    assert response.status_code == 400, response.text[:300]
    assert (response.json()["error_code"], response.json()["message"]) == ("INVALID_PARAMETER_VALUE", message)


@pytest.mark.parametrize("where", ["query", "header"])
def test_a_head_over_64_kib_is_refused_with_431(mltracker, where):
    if where == "query":
        request = {"params": [("run_ids", "r" * 60) for _ in range(1200)] + [("metric_key", "loss")]}
    else:
        request = {"params": {"run_ids": "a", "metric_key": "loss"}, "headers": {"X-Padding": "p" * 70_000}}
    response = requests.get(mltracker.url + AJAX + "/metrics/get-history-bulk-interval", timeout=60, **request)
    assert response.status_code == 431
    assert response.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "65536 bytes" in response.json()["message"]
    assert requests.get(mltracker.url + "/health", timeout=30).text == "OK"


def test_a_long_header_under_the_head_limit_is_served(client, mltracker):
    """gunicorn's field limit (8,190 bytes by default) is raised to the head limit: a 50 KB header
    (a large cookie, a proxy's trace header) reaches the API."""
    experiment_id = client.create_experiment(f"long-header-{uuid.uuid4().hex[:8]}")
    response = requests.get(mltracker.url + "/api/2.0/mlflow/experiments/get", timeout=30,
                            params={"experiment_id": experiment_id}, headers={"X-Padding": "p" * 50_000})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["experiment"]["experiment_id"] == experiment_id


def test_search_datasets(side_by_side):
    client = MlflowClient(side_by_side.url)
    experiment_id = client.create_experiment(f"datasets-{uuid.uuid4().hex[:8]}")
    other = client.create_experiment(f"datasets-{uuid.uuid4().hex[:8]}")
    inputs = [("train", "d1", "training"), ("eval", "d2", "evaluation"), ("raw", "d3", None), ("train", "d1", "training")]
    for i, (name, digest, context) in enumerate(inputs):
        run_id = client.create_run(experiment_id if i < 3 else other).info.run_id
        tags = [InputTag("mlflow.data.context", context)] if context else []
        client.log_inputs(run_id, [DatasetInput(Dataset(name, digest, "local", "/data/x"), tags)])
    response = requests.post(side_by_side.url + AJAX + "/experiments/search-datasets",
                             json={"experiment_ids": [experiment_id, other]}, timeout=30)
    assert response.status_code == 200, response.text
    summaries = sorted((s["experiment_id"], s["name"], s["digest"], s.get("context"))
                       for s in response.json()["dataset_summaries"])
    assert summaries == sorted([(experiment_id, "train", "d1", "training"), (experiment_id, "eval", "d2", "evaluation"),
                                (experiment_id, "raw", "d3", None), (other, "train", "d1", "training")])
    empty = requests.post(side_by_side.url + AJAX + "/experiments/search-datasets", json={"experiment_ids": []},
                          timeout=30)
    assert empty.status_code == 400
    assert empty.json()["message"] == "SearchDatasets request must specify at least one experiment_id."


DOWNLOAD_NAMES = ["a.txt", "b.png", "c.json", "MLmodel", "mlproject", "MLproject", "d.html", "e.unknownext",
                  "f.csv", "h.js", "i.svg", "j.PY", "k.ipynb", "name with spaces.txt", "résumé.txt"]


def _download_headers(url: str, paths: dict) -> dict:
    headers = {}
    for name in DOWNLOAD_NAMES:
        for label, path, params in (("proxy", paths["proxy"] + name, None),
                                    ("get-artifact", "/get-artifact", {"run_id": paths["run_id"], "path": name})):
            response = requests.get(url + path, params=params, timeout=30)
            assert response.status_code == 200, (label, name, response.text[:200])
            assert response.content == name.encode()
            headers[label, name] = (response.headers["Content-Type"], response.headers["Content-Disposition"],
                                    response.headers.get("X-Content-Type-Options"))
    return headers


def _upload_names(url: str) -> dict:
    client = MlflowClient(url)
    run = client.create_run(client.create_experiment(f"downloads-{uuid.uuid4().hex[:8]}")).info
    root = run.artifact_uri.replace("mlflow-artifacts:", "/api/2.0/mlflow-artifacts/artifacts")
    for name in DOWNLOAD_NAMES:
        response = requests.post(url + AJAX + "/upload-artifact", params={"run_uuid": run.run_id, "path": name},
                                 data=name.encode(), timeout=30)
        assert response.status_code == 200, response.text
    return {"run_id": run.run_id, "proxy": root + "/"}


def test_downloads_carry_mlflows_headers(mlflow_server, mltracker):
    expected = _download_headers(mlflow_server.url, _upload_names(mlflow_server.url))
    assert _download_headers(mltracker.url, _upload_names(mltracker.url)) == expected


def test_uploaded_artifact_is_listed_and_read_back(any_client, side_by_side, tmp_path):
    run_id = any_client.create_run(any_client.create_experiment(f"upload-{uuid.uuid4().hex[:8]}")).info.run_id
    response = requests.post(side_by_side.url + AJAX + "/upload-artifact",
                             params={"run_uuid": run_id, "path": "notes/from the ui.txt"}, data=b"hello", timeout=30)
    assert response.status_code == 200
    assert [f.path for f in any_client.list_artifacts(run_id, "notes")] == ["notes/from the ui.txt"]
    local = any_client.download_artifacts(run_id, "notes/from the ui.txt", str(tmp_path))
    with open(local, "rb") as f:
        assert f.read() == b"hello"


@pytest.mark.parametrize("params,data,message", [
    ({"path": "x.txt"}, b"x", "Request must specify run_uuid."),
    ({"run_uuid": "RUN"}, b"x", "Request must specify path."),
    ({"run_uuid": "RUN", "path": "x.txt"}, b"", "Request must specify data."),
    ({"run_uuid": "RUN", "path": "x.txt"}, b"x" * (10 * 1024 * 1024 + 1), "Artifact size is too large. Max size is 10MB."),
    ({"run_uuid": "RUN", "path": "../x.txt"}, b"x", "Invalid path"),
])
def test_upload_artifact_errors(any_client, side_by_side, params, data, message):
    run_id = any_client.create_run(any_client.create_experiment(f"upload-{uuid.uuid4().hex[:8]}")).info.run_id
    params = {k: v.replace("RUN", run_id) for k, v in params.items()}
    response = requests.post(side_by_side.url + AJAX + "/upload-artifact", params=params, data=data, timeout=60)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert any_client.list_artifacts(run_id) == []


def test_model_version_artifact_download(client, mltracker, tmp_path):
    """mltracker only: `mlflow server` 3.17 answers 500 here when versions are stored under
    mlflow-artifacts:/ (it resolves that URI against its own database URI)."""
    run_id = client.create_run(client.create_experiment(f"mv-{uuid.uuid4().hex[:8]}")).info.run_id
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    client.log_artifact(run_id, str(tmp_path / "MLmodel"), "model")
    name = f"model-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    version = client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id).version
    response = requests.get(mltracker.url + "/model-versions/get-artifact",
                            params={"name": name, "version": version, "path": "MLmodel"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content == b"flavors: {}\n"
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Content-Disposition"] == "attachment; filename=MLmodel"


def test_bad_page_token_for_an_unknown_run_is_a_400(side_by_side):
    response = requests.get(side_by_side.url + "/api/2.0/mlflow/metrics/get-history",
                            params={"run_id": "nope", "metric_key": "m", "max_results": 2, "page_token": "zz"},
                            timeout=30)
    assert response.status_code == 400
    assert response.json() == {**response.json(), "error_code": "INVALID_PARAMETER_VALUE",
                               "message": "Invalid page token, could not base64-decode"}
