"""The importer's parts that need no MLflow server: the source client's transport (retries, auth,
missing routes, answers read ahead) against a small real HTTP server, artifact roots, version
sources, progress output, the requests read ahead."""
from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import socket
import sys
import threading
from concurrent.futures import Future
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from mltracker.service.importer import read_ahead, runner
from mltracker.service.importer.artifacts_copy import proxied_path
from mltracker.service.importer.batching import metric_keys
from mltracker.service.importer.metrics_copy import copy_histories
from mltracker.service.importer.models_writer import rewrite_source, stage_of, timestamp_ms, version_tags
from mltracker.service.importer.runner import ImportOptions, batch_size
from mltracker.service.importer.progress import Progress
from mltracker.service.importer.quick_ack import acknowledge_at_once
from mltracker.service.importer.source import RouteUnavailable, SourceClient, SourceError, display_uri
from mltracker.service.importer.summary import Summary


class _Scripted:
    """Answers each request with the next scripted (status, body); records the requests."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.seen = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.seen.append({"path": request.path, "auth": request.headers.get("Authorization"),
                          "connection": request.headers.get("Connection")})
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        payload = body if isinstance(body, bytes) else json.dumps(body)  # bytes: sent as they are
        return Response(payload, status=status, mimetype="application/json")(environ, start_response)


@pytest.fixture
def serve():
    servers = []

    def start(answers):
        app = _Scripted(answers)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", app

    yield start
    for server in servers:
        server.shutdown()


def test_transient_errors_are_retried(serve, monkeypatch):
    monkeypatch.setattr("mltracker.service.importer.source.time.sleep", lambda s: None)
    url, app = serve([(503, {}), (502, {}), (200, {"experiments": [{"experiment_id": "1", "name": "a"}]})])
    assert [e["name"] for e in SourceClient(url, env={}).experiments()] == ["a"]
    assert len(app.seen) == 3


def test_persistent_errors_give_up_with_the_source_message(serve, monkeypatch):
    monkeypatch.setattr("mltracker.service.importer.source.time.sleep", lambda s: None)
    url, _ = serve([(500, {"error_code": "INTERNAL_ERROR", "message": "disk full"})])
    with pytest.raises(SourceError, match="disk full"):
        list(SourceClient(url, env={}).experiments())


def test_a_route_the_source_lacks_is_told_apart_from_a_missing_item(serve):
    url, _ = serve([(404, {"error": "404 Not Found"})])
    with pytest.raises(RouteUnavailable):
        list(SourceClient(url, env={}).logged_models(["1"]))
    url, _ = serve([(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such model"})])
    with pytest.raises(SourceError) as caught:
        SourceClient(url, env={}).registered_model("x")
    assert not isinstance(caught.value, RouteUnavailable)


def test_credentials_follow_the_mlflow_client(serve):
    url, app = serve([(200, {"experiments": []})])
    list(SourceClient(url, env={"MLFLOW_TRACKING_TOKEN": "glpat-x"}).experiments())
    list(SourceClient(url, env={"MLFLOW_TRACKING_USERNAME": "ana", "MLFLOW_TRACKING_PASSWORD": "pw"}).experiments())
    assert app.seen[0]["auth"] == "Bearer glpat-x"
    assert app.seen[1]["auth"] == "Basic " + base64.b64encode(b"ana:pw").decode()


def test_the_ledger_names_a_source_without_its_credentials():
    assert display_uri("https://ana:secret@mlflow.example.com:8443/base/") == "https://mlflow.example.com:8443/base"


@pytest.mark.parametrize("uri, path", [
    ("mlflow-artifacts:/3/abc/artifacts", "3/abc/artifacts"),
    ("mlflow-artifacts://host:5000/3/abc/artifacts", "3/abc/artifacts"),
    ("http://mlflow:5000/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts", "3/abc/artifacts"),
    ("https://gitlab.example.com/api/v4/projects/20/packages/ml_models/candidate:7/files/", "candidate:7"),
    ("https://gitlab.example.com/api/v4/projects/20/packages/ml_models/104/files/", "104"),
    ("s3://bucket/3/abc/artifacts", None),
    ("/local/mlruns/3/abc/artifacts", None),
])
def test_artifact_roots_read_through_the_source(uri, path):
    assert proxied_path(uri) == path


def test_version_sources_follow_the_experiment_map():
    mapping = {"3": 11}
    assert rewrite_source("mlflow-artifacts:/3/abc/artifacts/model", mapping) == "mlflow-artifacts:/11/abc/artifacts/model"
    assert rewrite_source("mlflow-artifacts:/3/models/m-1/artifacts", mapping) == "mlflow-artifacts:/11/models/m-1/artifacts"
    assert rewrite_source("mlflow-artifacts:/4/abc/artifacts", mapping) == "mlflow-artifacts:/4/abc/artifacts"
    assert rewrite_source("models:/m-123", mapping) == "models:/m-123"
    assert rewrite_source("runs:/abc/model", mapping) == "runs:/abc/model"


def test_gitlab_versions_read_as_mlflow_versions():
    page = "https://gitlab.example.com/group/app/-/ml/models/101/versions/104"
    gitlab = {"version": "104", "source": page, "aliases": ["1.2.1"], "current_stage": "development",
              "tags": [{"key": "quality", "value": "good"}], "creation_timestamp": 1764412800}
    assert version_tags(gitlab) == [{"key": "quality", "value": "good"}, {"key": "gitlab.version", "value": "1.2.1"}]
    tagged = {**gitlab, "tags": [{"key": "gitlab.version", "value": "1.2.1"}]}
    assert version_tags(tagged) == [{"key": "gitlab.version", "value": "1.2.1"}]
    mlflow_version = {"version": "2", "source": "models:/m-1", "aliases": ["champion"], "tags": []}
    assert version_tags(mlflow_version) == []
    assert stage_of(gitlab) == "None"
    assert stage_of({"current_stage": "staging"}) == "Staging"
    assert timestamp_ms(gitlab["creation_timestamp"]) == 1764412800000
    assert timestamp_ms(1764412800123) == 1764412800123
    assert timestamp_ms(None) == 0


@pytest.mark.parametrize("page_runs, workers, size", [(40, 4, 10), (1000, 4, 25), (3, 4, 1), (0, 4, 1), (7, 1, 7)])
def test_a_page_of_runs_keeps_every_worker_busy(page_runs, workers, size):
    assert batch_size(page_runs, workers) == size


def test_progress_is_a_bar_on_a_terminal_and_log_lines_otherwise():
    tty = io.StringIO()
    phase = Progress(tty, tty=True).phase("runs", 4)
    for _ in range(4):
        phase.advance()
    phase.finish()
    assert "\r" in tty.getvalue() and "[" + "#" * 30 + "] 4/4" in tty.getvalue()

    log = io.StringIO()
    phase = Progress(log, tty=False).phase("runs", 4)
    for _ in range(4):
        phase.advance()
    phase.finish()
    assert "\r" not in log.getvalue()
    assert log.getvalue().splitlines()[0] == "runs: started (4 to do)"
    assert log.getvalue().splitlines()[-1].endswith("(done)")


def test_gitlab_mode_needs_a_project(monkeypatch, capsys):
    from mltracker.service.cli import main

    monkeypatch.setenv("MLTRACKER_GITLAB_URL", "https://gitlab.example.com")
    assert main(["import", "mlflow", "http://127.0.0.1:9"]) == 2
    assert "--project is required" in capsys.readouterr().err


class _HistorySource:
    """The two history routes of an MLflow server over a dict run_id → points, with its limits."""

    def __init__(self, histories: dict[str, list[dict]], bulk: bool = True):
        self.histories = histories
        self.bulk_history = bulk
        self.bulk_calls = 0

    def metric_history_bulk(self, run_ids, key, max_results):
        self.bulk_calls += 1
        points = [dict(p, run_id=r) for r in sorted(run_ids) for p in self.histories.get(r, [])]
        return points[:max_results]

    def metric_history(self, run_id, key, page_size=7):
        points = self.histories.get(run_id, [])
        for start in range(0, max(len(points), 1), page_size):
            yield points[start:start + page_size]


def _points(n: int) -> list[dict]:
    return [{"key": "loss", "value": float(i), "timestamp": i, "step": i} for i in range(n)]


@pytest.mark.parametrize("sizes, bulk", [
    ({"a": 3, "b": 4, "c": 2}, True),  # all in one response
    ({"a": 6, "b": 6, "c": 6, "d": 1}, True),  # responses cut mid-run: the cut run is asked again
    ({"a": 2, "b": 40, "c": 3}, True),  # one history fills a whole response: paged on its own
    ({"a": 5, "b": 9}, False),  # a source without the bulk route
])
def test_bulk_history_reading_returns_every_point_once(monkeypatch, sizes, bulk):
    from mltracker.service.importer import metrics_copy

    monkeypatch.setattr(metrics_copy, "BULK_POINTS", 10)
    histories = {run_id: _points(n) for run_id, n in sizes.items()}
    source = _HistorySource(histories, bulk)
    got: dict[str, list] = {}
    for run_id, points in metrics_copy.read_histories(source, list(sizes), "loss"):
        got.setdefault(run_id, []).extend(p["step"] for p in points)
    assert got == {run_id: list(range(n)) for run_id, n in sizes.items()}
    assert (source.bulk_calls > 0) == bulk


def test_history_rows_keep_nan_infinities_and_lenient_shapes():
    from mltracker.service.importer.metrics_copy import history_rows

    big = sys.float_info.max
    points = [{"key": "m", "value": 0.5, "timestamp": 10, "step": 1},
              {"key": "m", "value": float("nan"), "timestamp": 11, "step": 2},
              {"key": "m", "value": float("inf"), "timestamp": 12, "step": 3},
              {"key": "m", "value": float("-inf"), "timestamp": 13, "step": 4},
              {"key": "m", "value": 3, "timestamp": 14, "step": 5}]
    assert history_rows("r", "m", points) == [
        ("r", "m", 10, 1, 0.5, False), ("r", "m", 11, 2, 0.0, True), ("r", "m", 12, 3, big, False),
        ("r", "m", 13, 4, -big, False), ("r", "m", 14, 5, 3.0, False)]
    # GitLab may leave the step out and send numbers as strings
    assert history_rows("r", "m", [{"value": "NaN", "timestamp": "7"}, {"value": "2.5", "timestamp": 8, "step": "1"}]) == [
        ("r", "m", 7, 0, 0.0, True), ("r", "m", 8, 1, 2.5, False)]


def test_a_proxy_from_the_environment_is_used(serve, monkeypatch):
    """The environment is read once, when the client is made, not per request: proxies still apply."""
    monkeypatch.setattr("mltracker.service.importer.source.time.sleep", lambda s: None)
    url, app = serve([(200, {"experiments": [{"experiment_id": "1", "name": "a"}]})])
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = SourceClient("http://mlflow.invalid:5000", env={})
    monkeypatch.delenv("HTTP_PROXY")
    assert [e["name"] for e in client.experiments()] == ["a"]
    assert app.seen[0]["path"].endswith("/api/2.0/mlflow/experiments/search")


def test_metric_values_mlflow_writes_as_nan_and_infinity_literals_are_read():
    from mltracker.service.importer.source import decoded

    class _Body:
        def __init__(self, content):
            self.content = content

    assert decoded(_Body(b'{"metrics": [{"value": 1.5}]}')) == {"metrics": [{"value": 1.5}]}
    values = [p["value"] for p in decoded(_Body(b'{"metrics": [{"value": NaN}, {"value": Infinity}, '
                                                b'{"value": -Infinity}]}'))["metrics"]]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]


def test_an_answer_that_is_not_json_is_a_source_error(serve):
    url, _ = serve([(200, b"<html>")])
    with pytest.raises(SourceError, match="not JSON"):
        SourceClient(url, env={}).get("api/2.0/mlflow/experiments/search")


def test_every_answer_is_acknowledged_at_once(serve, monkeypatch):
    """mlflow server's small answers come in two sends, the second waiting for our acknowledgement
    of the first (quick_ack.py): each request asks for it at once, on its connection's socket."""
    asked = []
    monkeypatch.setattr("mltracker.service.importer.quick_ack.acknowledge_at_once", asked.append)
    url, _ = serve([(200, {"experiments": []})])
    client = SourceClient(url, env={})
    list(client.experiments())
    list(client.experiments())
    assert len(asked) == 2 and all(isinstance(sock, socket.socket) for sock in asked)

    class _Socket:
        options = []

        def setsockopt(self, *option):
            self.options.append(option)

    acknowledge_at_once(_Socket())
    assert _Socket.options == [(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)]
    acknowledge_at_once(object())  # not a socket: nothing to ask


def test_bulk_history_requests_come_on_new_connections(serve):
    """So that the source's worker processes share them (source.metric_history_bulk)."""
    url, app = serve([(200, {"metrics": []})])
    client = SourceClient(url, env={})
    client.metric_history_bulk(["r1", "r2"], "loss", 100)
    client.get("api/2.0/mlflow/experiments/get", experiment_id="1")
    assert [seen["connection"] for seen in app.seen] == ["close", "keep-alive"]



def test_an_answer_asked_in_advance_serves_one_identical_request(serve):
    url, app = serve([(200, {"experiments": [{"experiment_id": "1", "name": "a"}]})])
    client = SourceClient(url, env={})
    route, body = client.experiments_request()
    client.read_ahead("POST", route, json=body).result()
    assert len(app.seen) == 1
    assert [e["name"] for e in client.experiments()] == ["a"]  # taken from the read-ahead
    assert len(app.seen) == 1
    list(client.experiments())  # asked again: to the source
    assert len(app.seen) == 2

    client.close_read_ahead()
    assert client.read_ahead("POST", route, json=body) is None
    assert len(app.seen) == 2


def test_an_answer_asked_in_advance_and_not_taken_is_dropped(serve):
    url, app = serve([(200, {"experiments": []})])
    client = SourceClient(url, env={})
    route, body = client.experiments_request()
    client.read_ahead("POST", route, json=body).result()
    client.close_read_ahead(drop=True)
    list(client.experiments())
    assert len(app.seen) == 2


class _Answer:
    def __init__(self, body: dict):
        self.content = json.dumps(body).encode()


class _FirstRequests:
    """A source that records the bulk history requests asked in advance, and those each batch of
    the runs phase asks first (then stops it)."""

    experiments_request = staticmethod(SourceClient.experiments_request)
    runs_request = staticmethod(SourceClient.runs_request)
    bulk_history = True

    def __init__(self, experiments: list[dict], runs: dict[str, list[dict]]):
        self.experiments, self.runs = experiments, runs
        self.ahead = []
        self.batch = threading.local()  # what the batch being read on this thread asked

    def read_ahead(self, method, route, json):
        done = Future()
        if route.endswith("experiments/search"):
            done.set_result(_Answer({"experiments": self.experiments}))
        else:
            done.set_result(_Answer({"runs": self.runs[json["experiment_ids"][0]]}))
        return done

    def read_ahead_history_bulk(self, run_ids, key, max_results):
        self.ahead.append((tuple(run_ids), key, max_results))
        answered = Future()
        answered.set_result(None)
        return answered

    def run_pages(self, experiment_id):
        yield self.runs[experiment_id]

    def metric_history_bulk(self, run_ids, key, max_results):
        """No points: the batch asks for its next key, up to AHEAD_PER_BATCH requests."""
        self.batch.asked.append((tuple(run_ids), key, max_results))
        if len(self.batch.asked) == read_ahead.AHEAD_PER_BATCH:
            raise _Stop
        return []

    def close_read_ahead(self, drop=False):
        pass


class _Stop(Exception):
    pass


def _run(run_id: str, keys: list[str], start_time: int = 0) -> dict:
    return {"info": {"run_id": run_id, "start_time": start_time},
            "data": {"metrics": [{"key": k, "value": 1.0, "step": 0, "timestamp": 0} for k in keys]}}


@pytest.mark.parametrize("workers, since_ms", [(4, None), (2, None), (3, 50), (8, None)])
def test_the_requests_asked_in_advance_are_the_first_the_runs_phase_makes(monkeypatch, workers, since_ms):
    runs = {"1": [_run(f"r{n:02}", ["loss", "acc"][: 1 + n % 2], start_time=n * 10) for n in range(11)],
            "2": [_run(f"s{n:02}", ["b", "a"]) for n in range(3)],
            "3": [_run("t0", [])]}
    source = _FirstRequests([{"experiment_id": i, "name": f"e{i}"} for i in ("1", "2", "3")], runs)
    read_ahead._read_ahead(source, set(), since_ms, workers)

    order = [run["info"]["run_id"] for experiment in ("1", "2", "3") for run in runs[experiment]]
    first_requests: dict[int, list[tuple]] = {}  # by the position of the batch's first run
    lock = threading.Lock()

    def first_requests_of(ctx, batch, target_id):
        source.batch.asked = []
        with contextlib.suppress(_Stop):
            copy_histories(ctx, {run["info"]["run_id"]: metric_keys(run) for run in batch})
        with lock:
            first_requests[order.index(batch[0]["info"]["run_id"])] = source.batch.asked

    monkeypatch.setattr(runner, "import_runs", first_requests_of)
    ctx = SimpleNamespace(source=source, summary=Summary())
    runner._runs(ctx, ImportOptions(since_ms=since_ms, workers=workers), _NoProgress(), {"1": 1, "2": 2, "3": 3})
    first_wave = [request for _, requests in sorted(first_requests.items())[:workers] for request in requests]
    assert len(source.ahead) > workers and sorted(source.ahead) == sorted(first_wave)


class _NoProgress:
    def phase(self, *args):
        return self

    def advance(self, n=1):
        pass

    def finish(self):
        pass
