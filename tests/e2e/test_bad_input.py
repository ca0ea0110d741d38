"""Bad input over raw HTTP and through the client: each answer is MLflow's JSON error
({"error_code", "message"}, MLflow's HTTP status, no stack trace), and nothing changes."""
from __future__ import annotations

import http.client
import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from tests.e2e.helpers import unique

pytestmark = pytest.mark.e2e

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def target(live_server):
    """A run with a param, metric and tag, a deleted run, in an experiment of their own."""
    client = MlflowClient(live_server.url)
    exp = client.create_experiment(unique("bad-input"))
    run = client.create_run(exp, run_name="target", tags={"t": "v"}).info.run_id
    client.log_param(run, "lr", "0.1")
    client.log_metric(run, "loss", 0.5, step=0)
    client.log_text(run, "hello", "notes/hello.txt")
    dead = client.create_run(exp, run_name="dead").info.run_id
    client.delete_run(dead)
    other = client.create_experiment(unique("bad-input-other"))
    return {"client": client, "exp": exp, "run": run, "dead": dead, "other": other,
            "exp_name": client.get_experiment(exp).name}


def state(live_server, target) -> dict:
    """Everything a bad request could have changed."""
    client = target["client"]
    out = {}
    for key in ("run", "dead"):
        run = client.get_run(target[key])
        out[key] = {"info": (run.info.status, run.info.lifecycle_stage, run.info.end_time, run.info.run_name),
                    "params": run.data.params, "metrics": run.data.metrics, "tags": run.data.tags,
                    "history": [(m.step, m.value) for m in client.get_metric_history(target[key], "loss")]}
    out["experiments"] = sorted((e.experiment_id, e.name, e.lifecycle_stage)
                                for e in client.search_experiments(view_type=ViewType.ALL))
    out["runs"] = sorted(r.info.run_id for r in client.search_runs([target["exp"]], run_view_type=ViewType.ALL))
    out["artifacts"] = stored_files(live_server)
    return out


def stored_files(live_server) -> list[str]:
    """Every file in the artifact store (and, for a local store, next to it)."""
    dest = live_server.artifacts_destination
    if dest.startswith("s3://"):
        import boto3

        bucket = dest[5:].split("/", 1)[0]
        s3 = boto3.client("s3", endpoint_url=live_server.env["MLFLOW_S3_ENDPOINT_URL"], region_name="us-east-1")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))
    root = Path(dest).parent  # the artifact folder and the server's working directory around it
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and not p.name.startswith("mltracker") and ".db" not in p.name)


def assert_mlflow_error(response, status: int, error_code: str):
    body = response.text
    assert response.status_code == status, body[:500]
    assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
    payload = json.loads(body)
    assert payload["error_code"] == error_code, payload
    assert isinstance(payload["message"], str) and payload["message"]
    for leak in ("Traceback", 'File "/', "sqlalchemy.", "psycopg", "botocore", "Error at", "/site-packages/"):
        assert leak not in body, f"{leak!r} in error body: {body[:500]}"


def raw_request(base_url: str, method: str, raw_path: str, body: bytes = b"", headers=None):
    """A request whose path goes out byte for byte (requests would normalise '../' away)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, parts.path + raw_path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    fake = requests.models.Response()
    fake.status_code = response.status
    fake._content = data
    fake.headers = requests.structures.CaseInsensitiveDict(response.getheaders())
    return fake


def many(kind: str, n: int, **extra):
    if kind == "metrics":
        return [{"key": f"m{i}", "value": 1.0, "timestamp": 1, "step": 0, **extra} for i in range(n)]
    return [{"key": f"{kind[0]}{i}", "value": "1", **extra} for i in range(n)]


def page_token(offset: int) -> str:
    import base64

    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


# (id, method, path, json body or raw bytes, expected status, expected error_code).
# {run}: the target run, {dead}: a deleted run, {exp}: their experiment, {exp_name}: its name.
CASES = [
    ("1001 metrics", "POST", f"{API}/runs/log-batch", {"run_id": "{run}", "metrics": many("metrics", 1001)},
     400, "INVALID_PARAMETER_VALUE"),
    ("101 params", "POST", f"{API}/runs/log-batch", {"run_id": "{run}", "params": many("params", 101)},
     400, "INVALID_PARAMETER_VALUE"),
    ("101 tags", "POST", f"{API}/runs/log-batch", {"run_id": "{run}", "tags": many("tags", 101)},
     400, "INVALID_PARAMETER_VALUE"),
    # MLflow documents a 1 MB limit for log-batch (mlflow server itself does not enforce it)
    ("body over 1 MB", "POST", f"{API}/runs/log-batch",
     {"run_id": "{run}", "params": [{"key": f"p{i}", "value": "v" * 5000} for i in range(90)],
      "tags": [{"key": f"t{i}", "value": "w" * 7900} for i in range(90)]}, 400, "INVALID_PARAMETER_VALUE"),
    ("metric name with *", "POST", f"{API}/runs/log-metric",
     {"run_id": "{run}", "key": "bad*name", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE"),
    ("metric name ../", "POST", f"{API}/runs/log-metric",
     {"run_id": "{run}", "key": "../escape", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE"),
    ("metric name absolute", "POST", f"{API}/runs/log-metric",
     {"run_id": "{run}", "key": "/abs", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE"),
    ("metric name 251 chars", "POST", f"{API}/runs/log-metric",
     {"run_id": "{run}", "key": "m" * 251, "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE"),
    ("param name with backslash", "POST", f"{API}/runs/log-parameter",
     {"run_id": "{run}", "key": "a\\b", "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("param name a/../b", "POST", f"{API}/runs/log-parameter",
     {"run_id": "{run}", "key": "a/../b", "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("param name empty", "POST", f"{API}/runs/log-parameter",
     {"run_id": "{run}", "key": "", "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("tag name with *", "POST", f"{API}/runs/set-tag",
     {"run_id": "{run}", "key": "bad*tag", "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("batch with one bad metric name", "POST", f"{API}/runs/log-batch",
     {"run_id": "{run}", "metrics": [*many("metrics", 3), {"key": "bad*", "value": 1, "timestamp": 1, "step": 0}]},
     400, "INVALID_PARAMETER_VALUE"),
    ("malformed JSON", "POST", f"{API}/runs/log-metric", b'{"run_id": "x", ', 400, "INVALID_PARAMETER_VALUE"),
    ("JSON array body", "POST", f"{API}/runs/log-metric", b"[1, 2]", 400, "INVALID_PARAMETER_VALUE"),
    ("metric value is a word", "POST", f"{API}/runs/log-metric",
     {"run_id": "{run}", "key": "loss", "value": "abc", "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE"),
    ("metric timestamp is a word", "POST", f"{API}/runs/log-metric",
     {"run_id": "{run}", "key": "loss", "value": 1, "timestamp": "x"}, 400, "INVALID_PARAMETER_VALUE"),
    ("batch metric value is a list", "POST", f"{API}/runs/log-batch",
     {"run_id": "{run}", "metrics": [{"key": "loss", "value": [1], "timestamp": 1, "step": 0}]},
     400, "INVALID_PARAMETER_VALUE"),
    ("param key is a list", "POST", f"{API}/runs/log-parameter",
     {"run_id": "{run}", "key": ["a"], "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("param value is a list", "POST", f"{API}/runs/log-parameter",
     {"run_id": "{run}", "key": "a", "value": ["1"]}, 400, "INVALID_PARAMETER_VALUE"),
    ("run_id is a number", "POST", f"{API}/runs/log-parameter",
     {"run_id": 5, "key": "a", "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("batch metrics is an object", "POST", f"{API}/runs/log-batch",
     {"run_id": "{run}", "metrics": {"key": "a"}}, 400, "INVALID_PARAMETER_VALUE"),
    ("search max_results is a word", "POST", f"{API}/runs/search",
     {"experiment_ids": ["{exp}"], "max_results": "ten"}, 400, "INVALID_PARAMETER_VALUE"),
    ("search experiment_ids is a string", "POST", f"{API}/runs/search",
     {"experiment_ids": "{exp}"}, 400, "INVALID_PARAMETER_VALUE"),
    ("changing a param value", "POST", f"{API}/runs/log-parameter",
     {"run_id": "{run}", "key": "lr", "value": "0.2"}, 400, "INVALID_PARAMETER_VALUE"),
    ("changing a param value in a batch", "POST", f"{API}/runs/log-batch",
     {"run_id": "{run}", "params": [{"key": "new", "value": "1"}, {"key": "lr", "value": "0.2"}],
      "metrics": many("metrics", 2)}, 400, "INVALID_PARAMETER_VALUE"),
    ("metric on a deleted run", "POST", f"{API}/runs/log-metric",
     {"run_id": "{dead}", "key": "loss", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE"),
    ("param on a deleted run", "POST", f"{API}/runs/log-parameter",
     {"run_id": "{dead}", "key": "x", "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("batch on a deleted run", "POST", f"{API}/runs/log-batch",
     {"run_id": "{dead}", "metrics": many("metrics", 2)}, 400, "INVALID_PARAMETER_VALUE"),
    ("tag on a deleted run", "POST", f"{API}/runs/set-tag",
     {"run_id": "{dead}", "key": "x", "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("update a deleted run", "POST", f"{API}/runs/update",
     {"run_id": "{dead}", "status": "FINISHED", "end_time": 1}, 400, "INVALID_PARAMETER_VALUE"),
    ("unknown endpoint GET", "GET", f"{API}/no/such/endpoint", None, 404, "ENDPOINT_NOT_FOUND"),
    ("unknown endpoint POST", "POST", f"{API}/runs/frobnicate", {"run_id": "{run}"}, 404, "ENDPOINT_NOT_FOUND"),
    ("unknown API version", "GET", "/api/2.1/mlflow/runs/get?run_id={run}", None, 404, "ENDPOINT_NOT_FOUND"),
    ("unknown run get", "GET", f"{API}/runs/get?run_id={'f' * 32}", None, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("unknown run log", "POST", f"{API}/runs/log-metric",
     {"run_id": "f" * 32, "key": "loss", "value": 1, "timestamp": 1}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("unknown run delete", "POST", f"{API}/runs/delete", {"run_id": "f" * 32}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("missing run_id", "GET", f"{API}/runs/get", None, 400, "INVALID_PARAMETER_VALUE"),
    ("unknown experiment get", "GET", f"{API}/experiments/get?experiment_id=987654321", None,
     404, "RESOURCE_DOES_NOT_EXIST"),
    ("unknown experiment by name", "GET", f"{API}/experiments/get-by-name?experiment_name=nope-{uuid.uuid4().hex}",
     None, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("run in unknown experiment", "POST", f"{API}/runs/create", {"experiment_id": "987654321"},
     404, "RESOURCE_DOES_NOT_EXIST"),
    ("non-numeric experiment id", "GET", f"{API}/experiments/get?experiment_id=abc", None,
     400, "INVALID_PARAMETER_VALUE"),
    ("duplicate experiment name", "POST", f"{API}/experiments/create", {"name": "{exp_name}"},
     400, "RESOURCE_ALREADY_EXISTS"),
    ("experiment without name", "POST", f"{API}/experiments/create", {}, 400, "INVALID_PARAMETER_VALUE"),
    ("rename to an existing name", "POST", f"{API}/experiments/update",
     {"experiment_id": "{other}", "new_name": "{exp_name}"}, 400, "RESOURCE_ALREADY_EXISTS"),
    ("metric history page size 0", "GET", f"{API}/metrics/get-history?run_id={{run}}&metric_key=loss&max_results=0",
     None, 400, "INVALID_PARAMETER_VALUE"),
    ("search page token garbage", "POST", f"{API}/runs/search",
     {"experiment_ids": ["{exp}"], "page_token": "garbage!"}, 400, "INVALID_PARAMETER_VALUE"),
    # artifact paths escaping the run, sent byte for byte
    ("artifact PUT ../", "PUT", ARTIFACTS + "/{exp}/{run}/artifacts/../../../escape.txt", b"x",
     400, "INVALID_PARAMETER_VALUE"),
    ("artifact PUT %2e%2e%2f", "PUT", ARTIFACTS + "/{exp}/{run}/artifacts/%2e%2e%2f%2e%2e%2f%2e%2e%2fescape.txt",
     b"x", 400, "INVALID_PARAMETER_VALUE"),
    ("artifact PUT %2E%2E/", "PUT", ARTIFACTS + "/{exp}/{run}/artifacts/%2E%2E/%2E%2E/%2E%2E/escape.txt",
     b"x", 400, "INVALID_PARAMETER_VALUE"),
    ("artifact PUT absolute", "PUT", ARTIFACTS + "//tmp/escape.txt", b"x", 400, "INVALID_PARAMETER_VALUE"),
    ("artifact GET ../", "GET", ARTIFACTS + "/{exp}/{run}/artifacts/%2e%2e/%2e%2e/%2e%2e/mltracker.db", None,
     400, "INVALID_PARAMETER_VALUE"),
    ("artifact list ../", "GET", ARTIFACTS + "?path={exp}/{run}/artifacts/../../..", None,
     400, "INVALID_PARAMETER_VALUE"),
    ("artifact list absolute", "GET", ARTIFACTS + "?path=/etc", None, 400, "INVALID_PARAMETER_VALUE"),
    ("runs artifact list ../", "GET", f"{API}/artifacts/list?run_id={{run}}&path=../../", None,
     400, "INVALID_PARAMETER_VALUE"),
    ("runs artifact list absolute", "GET", f"{API}/artifacts/list?run_id={{run}}&path=/etc", None,
     400, "INVALID_PARAMETER_VALUE"),
    *[(f"{name} offset {offset}", "POST", path, {**body, "page_token": page_token(offset)},
       400, "INVALID_PARAMETER_VALUE")
      for name, path, body in (("runs", f"{API}/runs/search", {"experiment_ids": ["{exp}"]}),
                               ("experiments", f"{API}/experiments/search", {"max_results": 10}),
                               ("models", f"{API}/registered-models/search", {}),
                               ("versions", f"{API}/model-versions/search", {}),
                               ("logged models", "/api/2.0/mlflow/logged-models/search",
                                {"experiment_ids": ["{exp}"]}))
      for offset in (2**63, 2**64)],
    ("JSON nested 100,000 deep", "POST", f"{API}/runs/log-metric",
     b'{"run_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "INVALID_PARAMETER_VALUE"),
    ("JSON object nested 5,000 deep", "POST", f"{API}/experiments/create",
     b'{"name": "x", "tags": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}", 400, "INVALID_PARAMETER_VALUE"),
    *[(f"{field} {value}", "POST", f"{API}/runs/log-metric",
       {"run_id": "{run}", "key": "loss", "value": 1, "timestamp": 1, "step": 0, field: value},
       400, "INVALID_PARAMETER_VALUE")
      for field in ("step", "timestamp") for value in (2**63, 2**64, -(2**64))],
    ("batch step 2**63", "POST", f"{API}/runs/log-batch",
     {"run_id": "{run}", "metrics": [{"key": "loss", "value": 1, "timestamp": 1, "step": 2**63}]},
     400, "INVALID_PARAMETER_VALUE"),
    ("run start_time 2**63", "POST", f"{API}/runs/update",
     {"run_id": "{run}", "end_time": 2**63}, 400, "INVALID_PARAMETER_VALUE"),
    ("history end_step 2**63", "GET",
     f"{API}/metrics/get-history-bulk-interval?run_ids={{run}}&metric_key=loss&start_step=0&end_step={2**63}",
     None, 400, "INVALID_PARAMETER_VALUE"),
    ("lone surrogate in a tag", "POST", f"{API}/runs/set-tag",
     b'{"run_id": "{run}", "key": "t", "value": "\\ud800"}', 400, "INVALID_PARAMETER_VALUE"),
    ("lone surrogate in an experiment name", "POST", f"{API}/experiments/create",
     b'{"name": "x\\udfff"}', 400, "INVALID_PARAMETER_VALUE"),
    ("lone surrogate with NaN (the fallback parser)", "POST", f"{API}/runs/log-metric",
     b'{"run_id": "{run}", "key": "\\ud800", "value": NaN, "timestamp": 1}', 400, "INVALID_PARAMETER_VALUE"),
    ("NUL in a tag value", "POST", f"{API}/runs/set-tag",
     {"run_id": "{run}", "key": "t", "value": "a\u0000b"}, 400, "INVALID_PARAMETER_VALUE"),
    ("NUL in a param key", "POST", f"{API}/runs/log-parameter",
     {"run_id": "{run}", "key": "k\u0000", "value": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ("NUL in an experiment name", "POST", f"{API}/experiments/create",
     {"name": "x\u0000y"}, 400, "INVALID_PARAMETER_VALUE"),
    ("NUL in a query parameter", "GET", f"{API}/experiments/get-by-name?experiment_name=x%00y",
     None, 400, "INVALID_PARAMETER_VALUE"),
    ("NUL in a search filter", "POST", f"{API}/runs/search",
     {"experiment_ids": ["{exp}"], "filter": "tags.t = 'a\u0000'"}, 400, "INVALID_PARAMETER_VALUE"),
    ("40,000 run ids", "POST", f"{API}/runs/search",
     {"experiment_ids": ["{exp}"],
      "filter": "attributes.run_id IN (" + ",".join(f"'{i:032x}'" for i in range(40_000)) + ")"},
     400, "INVALID_PARAMETER_VALUE"),
    ("1,000 ANDed clauses", "POST", f"{API}/runs/search",
     {"experiment_ids": ["{exp}"], "filter": " AND ".join(f"params.p{i} = 'x'" for i in range(1000))},
     400, "INVALID_PARAMETER_VALUE"),
]



@pytest.mark.parametrize(("method", "path", "body", "status", "error_code"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_request_is_rejected_and_changes_nothing(live_server, target, method, path, body, status, error_code):
    values = {k: target[k] for k in ("run", "dead", "exp", "exp_name", "other")}
    data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
        data = data.replace(("{" + name + "}").encode(), value.encode())
    before = state(live_server, target)
    headers = {"Content-Type": "application/json"} if method == "POST" else {}
    response = raw_request(live_server.url, method, path, data, headers)
    assert_mlflow_error(response, status, error_code)
    assert state(live_server, target) == before


def test_error_shape_for_every_method_on_unknown_paths(live_server):
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        response = raw_request(live_server.url, method, f"{API}/experiments/nope", b"{}",
                               {"Content-Type": "application/json"})
        assert_mlflow_error(response, 404, "ENDPOINT_NOT_FOUND")


# --------------------------------------------------------------------------- through the client


def test_client_rejects_and_keeps_state(live_server, target):
    client = target["client"]
    run = target["run"]
    before = state(live_server, target)
    cases = [
        (lambda: client.log_param(run, "lr", "0.2"), "INVALID_PARAMETER_VALUE"),
        (lambda: client.log_metric(target["dead"], "loss", 1.0), "INVALID_PARAMETER_VALUE"),
        (lambda: client.set_tag(target["dead"], "t", "x"), "INVALID_PARAMETER_VALUE"),
        (lambda: client.get_run("0" * 32), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: client.get_experiment("987654321"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: client.create_experiment(target["exp_name"]), "RESOURCE_ALREADY_EXISTS"),
        (lambda: client.delete_tag(run, "never-set"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: client.search_runs([target["exp"]], filter_string="params.lr > '1'"), "INVALID_PARAMETER_VALUE"),
    ]
    for call, code in cases:
        with pytest.raises(MlflowException) as info:
            call()
        assert info.value.error_code == code
    assert state(live_server, target) == before


def test_logging_the_same_param_value_again_is_fine(target):
    client = target["client"]
    client.log_param(target["run"], "lr", "0.1")
    client.log_batch(target["run"], params=[__import__("mlflow").entities.Param("lr", "0.1")])
    assert client.get_run(target["run"]).data.params == {"lr": "0.1"}


def test_huge_param_and_tag_values_are_truncated_like_mlflow(target):
    """mlflow server (3.x, MLFLOW_TRUNCATE_LONG_VALUES defaults to true) truncates a param value
    over 6000 characters to 6000 and a run tag value over 8000 to 8000 (mlflow/utils/validation.py,
    _validate_param / _validate_tag with truncate=True): the stock client's log_param succeeds."""
    client = target["client"]
    client.log_param(target["run"], "huge", "p" * 7000)
    client.set_tag(target["run"], "huge", "t" * 9000)
    data = client.get_run(target["run"]).data
    assert data.params["huge"] == "p" * 6000
    assert data.tags["huge"] == "t" * 8000


def test_client_refuses_traversal_in_artifact_path(live_server, target, tmp_path):
    """The client itself sends `../` in the artifact path; the server must not write outside the run."""
    client = target["client"]
    before = stored_files(live_server)
    local = tmp_path / "escape.txt"
    local.write_text("x")
    for artifact_path in ("../../..", "../other-run", "/abs/path"):
        try:
            client.log_artifact(target["run"], str(local), artifact_path=artifact_path)
        except Exception:  # noqa: BLE001 - refusing is right; what matters is where nothing went
            pass
    after = set(stored_files(live_server)) - set(before)
    run_prefix = f"{target['exp']}/{target['run']}/artifacts/"
    for key in after:
        assert run_prefix in key and ".." not in key.split("/"), f"written outside the run: {key}"


def test_oversized_batch_through_the_client(target):
    from mlflow.entities import Metric

    client = target["client"]
    metrics = [Metric(f"m{i}", 1.0, 1, 0) for i in range(1001)]
    # the stock client splits big batches itself; the server gets valid chunks and keeps them all
    client.log_batch(target["run"], metrics=metrics)
    assert len(client.get_run(target["run"]).data.metrics) == 1001 + 1
