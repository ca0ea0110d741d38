"""The hot-write path (service/api/hot_writes.py) answers log-metric, log-parameter and set-tag as
Flask's views do: the same status, headers and body for the same request, errors included, in
local mode and in GitLab mode, on SQLite and PostgreSQL; and what it does not handle reaches Flask.

Each request goes once through the app as served (the hot path in front) and once straight to the
Flask app behind it; a counter on the Flask side tells which one answered."""
from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

import pytest
from werkzeug.test import Client

from mltracker.service.api.hot_writes import HotWrites
from mltracker.service.app import create_app
from mltracker.service.settings import Settings
from tests.conftest import fresh_pg_database
from tests.fakes.gitlab_support import DEVELOPER, REPORTER, gitlab_env


class _Counted:
    def __init__(self, app):
        self.app, self.calls = app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


class Paths:
    """The served app (hot path first) and the Flask app behind it, side by side."""

    def __init__(self, app, prefix: str = "", headers: dict | None = None):
        hot = app.wsgi_app
        assert isinstance(hot, HotWrites)
        self.flask_side = _Counted(hot.wsgi_app)
        hot.wsgi_app = self.flask_side
        self.served, self.flask = Client(app), Client(self.flask_side)
        self.prefix, self.headers = prefix, headers or {}

    def post(self, client: Client, route: str, body, query: str = ""):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        path = f"{self.prefix}/api/2.0/mlflow/{route}" + (f"?{query}" if query else "")
        response = client.post(path, data=data, headers=self.headers, content_type="application/json")
        return response.status, response.headers.to_wsgi_list(), response.get_data()

    def both(self, route: str, body, **kwargs):
        """(answer through the hot path, whether Flask answered it, answer of Flask alone)."""
        before = self.flask_side.calls
        hot = self.post(self.served, route, body, **kwargs)
        referred = self.flask_side.calls > before
        return hot, referred, self.post(self.flask, route, body, **kwargs)

    def create_run(self) -> str:
        status, _, body = self.post(self.served, "experiments/create", {"name": f"e-{uuid.uuid4().hex[:8]}"})
        assert status.startswith("200"), body
        experiment_id = json.loads(body)["experiment_id"]
        status, _, body = self.post(self.served, "runs/create", {"experiment_id": experiment_id})
        return json.loads(body)["run"]["info"]["run_id"]


@contextmanager
def _store(backend: str, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/hot.db"
    else:
        with fresh_pg_database() as url:
            yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def local(backend, tmp_path):
    with _store(backend, tmp_path) as url:
        app = create_app(Settings(backend_store_uri=url, artifacts_destination=str(tmp_path / "artifacts"),
                                  data_dir=str(tmp_path), run_jobs_in_process=False))
        try:
            yield app
        finally:
            app.extensions["mltracker"].db.dispose()


def _assert_same(answers, handled_by_hot_path: bool = True):
    hot, referred, flask = answers
    assert hot == flask
    assert referred is not handled_by_hot_path
    return hot


def _ok(answer):
    status, _, body = answer
    assert status == "200 OK", body
    return answer


def _error(answer, status: int, code: str, message_part: str = ""):
    got_status, headers, body = answer
    assert got_status.startswith(str(status)), body
    payload = json.loads(body)
    assert payload["error_code"] == code and message_part in payload["message"]
    assert ("Content-Type", "application/json") in headers


GOOD = {"key": "loss", "value": 0.5, "timestamp": 1_700_000_000_000, "step": 3}


@pytest.mark.parametrize("prefix", ["", "/projects/0", "/projects/0/mlflow-ui-is-not-this"])
def test_successful_writes_answer_exactly_as_flask(local, prefix):
    paths = Paths(local)
    run_id = paths.create_run()
    paths.prefix = prefix
    hot_path = prefix != "/projects/0/mlflow-ui-is-not-this"
    if not hot_path:
        _, referred, _ = paths.both("runs/log-metric", {"run_id": run_id, **GOOD})
        assert referred  # not a path of the API: Flask's 404
        return
    _ok(_assert_same(paths.both("runs/log-metric", {"run_id": run_id, **GOOD})))
    _ok(_assert_same(paths.both("runs/log-metric", {"run_uuid": run_id, "key": "acc", "value": "NaN",
                                                     "timestamp": "1700000000001", "step": "4"})))
    _ok(_assert_same(paths.both("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})))
    _ok(_assert_same(paths.both("runs/set-tag", {"run_id": run_id, "key": "epoch", "value": "7"})))
    paths.prefix = prefix.replace("/api/", "/ajax-api/")
    _ok(_assert_same(paths.both("runs/set-tag", {"run_id": run_id, "key": "epoch", "value": "8"})))


def test_the_writes_land(local):
    paths = Paths(local)
    run_id = paths.create_run()
    for step in range(3):
        _ok(paths.post(paths.served, "runs/log-metric", {"run_id": run_id, **GOOD, "step": step, "value": step}))
    paths.post(paths.served, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})
    paths.post(paths.served, "runs/set-tag", {"run_id": run_id, "key": "epoch", "value": "2"})
    assert paths.flask_side.calls == 2  # the experiment and the run only
    with local.test_client() as client:
        run = client.get("/api/2.0/mlflow/runs/get", query_string={"run_id": run_id}).json["run"]
        history = client.get("/api/2.0/mlflow/metrics/get-history",
                             query_string={"run_id": run_id, "metric_key": "loss"}).json["metrics"]
    assert [m["value"] for m in run["data"]["metrics"]] == [2.0]
    assert [m["step"] for m in history] == [0, 1, 2]
    assert run["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert {"key": "epoch", "value": "2"} in run["data"]["tags"]


@pytest.mark.parametrize("route,body,status,code,message", [
    ("runs/log-metric", {"key": "loss", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE",
     "Missing value for required parameter 'run_id'"),
    ("runs/log-metric", {"run_id": "RUN", "key": "loss", "value": "abc", "timestamp": 1}, 400,
     "INVALID_PARAMETER_VALUE", "Invalid value"),
    ("runs/log-metric", {"run_id": "RUN", "key": "loss", "value": 1}, 400, "INVALID_PARAMETER_VALUE",
     "'timestamp'"),
    ("runs/log-metric", {"run_id": "RUN", "key": "loss", "value": 1, "timestamp": 1, "step": "x"}, 400,
     "INVALID_PARAMETER_VALUE", "'step'"),
    ("runs/log-metric", {"run_id": "RUN", "key": "a\u0000b", "value": 1, "timestamp": 1}, 400,
     "INVALID_PARAMETER_VALUE", "NUL"),
    ("runs/log-metric", {"run_id": "RUN", "key": "bad key!", "value": 1, "timestamp": 1}, 400,
     "INVALID_PARAMETER_VALUE", ""),
    ("runs/log-metric", "{not json", 400, "INVALID_PARAMETER_VALUE", "Malformed JSON"),
    ("runs/log-metric", "[1, 2]", 400, "INVALID_PARAMETER_VALUE", "must be a JSON object"),
    ("runs/log-metric", {"run_id": "0" * 32, "key": "loss", "value": 1, "timestamp": 1}, 404,
     "RESOURCE_DOES_NOT_EXIST", "not found"),
    ("runs/log-parameter", {"run_id": "RUN", "value": "1"}, 400, "INVALID_PARAMETER_VALUE", "'key'"),
    ("runs/log-parameter", {"run_id": "RUN", "key": "k", "value": 5}, 400, "INVALID_PARAMETER_VALUE", "'value'"),
    ("runs/set-tag", {"run_id": "RUN", "key": "", "value": "v"}, 400, "INVALID_PARAMETER_VALUE", "'key'"),
    ("runs/set-tag", {"run_id": "0" * 32, "key": "k", "value": "v"}, 404, "RESOURCE_DOES_NOT_EXIST", ""),
])
def test_refusals_answer_exactly_as_flask(local, route, body, status, code, message):
    paths = Paths(local)
    run_id = paths.create_run()
    if isinstance(body, dict):
        body = {k: (run_id if v == "RUN" else v) for k, v in body.items()}
    _error(_assert_same(paths.both(route, body)), status, code, message)


def test_refusals_of_the_write_itself(local):
    paths = Paths(local)
    run_id = paths.create_run()
    paths.post(paths.served, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})
    _error(_assert_same(paths.both("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.2"})),
           400, "INVALID_PARAMETER_VALUE", "lr")
    _ok(_assert_same(paths.both("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})))
    paths.post(paths.served, "runs/delete", {"run_id": run_id})
    for route, body in [("runs/log-metric", {"run_id": run_id, **GOOD}),
                        ("runs/log-parameter", {"run_id": run_id, "key": "b", "value": "1"}),
                        ("runs/set-tag", {"run_id": run_id, "key": "t", "value": "1"})]:
        _error(_assert_same(paths.both(route, body)), 400, "INVALID_PARAMETER_VALUE", "must be in the 'active' state")


def test_what_the_views_send_through_write_batch_is_flasks(local):
    paths = Paths(local)
    run_id = paths.create_run()
    _ok(_assert_same(paths.both("runs/set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "renamed"}),
                     handled_by_hot_path=False))
    _ok(_assert_same(paths.both("runs/set-tag", {"run_id": run_id, "key": "gitlab.anything", "value": "x"}),
                     handled_by_hot_path=False))
    _ok(_assert_same(paths.both("runs/log-metric", {"run_id": run_id, **GOOD, "dataset_name": "train",
                                                     "dataset_digest": "abc"}), handled_by_hot_path=False))
    with local.test_client() as client:
        run = client.get("/api/2.0/mlflow/runs/get", query_string={"run_id": run_id}).json["run"]
    assert run["info"]["run_name"] == "renamed"


def test_unusual_requests_are_flasks(local):
    paths = Paths(local)
    run_id = paths.create_run()
    body = {"run_id": run_id, **GOOD}
    _ok(_assert_same(paths.both("runs/log-metric", body, query="x=1"), handled_by_hot_path=False))
    paths.served.set_cookie("a", "b")  # a browser
    paths.flask.set_cookie("a", "b")
    _ok(_assert_same(paths.both("runs/log-metric", body), handled_by_hot_path=False))
    paths.served.delete_cookie("a")
    paths.flask.delete_cookie("a")
    _ok(_assert_same(paths.both("runs/log-metric", json.dumps(body) + " " * 70_000), handled_by_hot_path=False))
    _error(_assert_same(paths.both("runs/log-metric/", body), handled_by_hot_path=False), 404, "ENDPOINT_NOT_FOUND")
    status, _, _ = paths.post(paths.served, "runs/log-metric", b"")
    assert status.startswith("400")


# ---------------------------------------------------------------- GitLab mode


@pytest.fixture
def gitlab_app(fake_gitlab, monkeypatch, tmp_path):
    for name, value in gitlab_env(fake_gitlab, ttl=30).items():
        monkeypatch.setenv(name, value)
    from mltracker.service.settings import settings_from_env

    app = create_app(settings_from_env(backend_store_uri=f"sqlite:///{tmp_path}/gitlab.db",
                                       artifacts_destination=str(tmp_path / "artifacts"), data_dir=str(tmp_path),
                                       run_jobs_in_process=False))
    yield app
    app.extensions["mltracker"].db.dispose()


def test_gitlab_mode_takes_the_hot_path_only_on_a_cached_allow(gitlab_app, scenario):
    developer, reporter = scenario.user("dev"), scenario.user("rep")
    project = scenario.project(members={developer: DEVELOPER, reporter: REPORTER})
    paths = Paths(gitlab_app, prefix=f"/projects/{project}", headers={"Authorization": f"Bearer {developer.token}"})
    run_id = paths.create_run()  # the developer's decisions are cached from here on
    body = {"run_id": run_id, **GOOD}
    _ok(_assert_same(paths.both("runs/log-metric", body)))
    _error(_assert_same(paths.both("runs/log-metric", {**body, "value": "x"})), 400, "INVALID_PARAMETER_VALUE")

    paths.headers = {}
    answer = _assert_same(paths.both("runs/log-metric", body), handled_by_hot_path=False)
    _error(answer, 401, "UNAUTHENTICATED")
    assert dict(answer[1])["WWW-Authenticate"].startswith("Bearer")

    paths.headers = {"Authorization": "Bearer glpat-unknown-token"}
    _error(_assert_same(paths.both("runs/log-metric", body), handled_by_hot_path=False), 401, "UNAUTHENTICATED")
    _error(_assert_same(paths.both("runs/log-metric", body), handled_by_hot_path=False), 401, "UNAUTHENTICATED")

    paths.headers = {"PRIVATE-TOKEN": reporter.token}
    _error(_assert_same(paths.both("runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"}),
                        handled_by_hot_path=False), 403, "PERMISSION_DENIED", "Reporter")
    _error(_assert_same(paths.both("runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"}),
                        handled_by_hot_path=False), 403, "PERMISSION_DENIED", "Reporter")

    paths.headers = {"Authorization": f"Bearer {developer.token}"}
    other = scenario.project()
    paths.prefix = f"/projects/{other}"
    _error(_assert_same(paths.both("runs/log-metric", body), handled_by_hot_path=False), 404,
           "RESOURCE_DOES_NOT_EXIST")
    paths.prefix = ""  # GitLab mode serves the API per project only
    _error(_assert_same(paths.both("runs/log-metric", body), handled_by_hot_path=False), 404, "ENDPOINT_NOT_FOUND")
    paths.prefix = f"/projects/{project}"
    _ok(_assert_same(paths.both("runs/set-tag", {"run_id": run_id, "key": "epoch", "value": "1"})))


def test_gitlab_mode_a_run_of_another_project_is_not_found(gitlab_app, scenario):
    developer = scenario.user("dev")
    mine, theirs = scenario.project(members={developer: DEVELOPER}), scenario.project(members={developer: DEVELOPER})
    paths = Paths(gitlab_app, prefix=f"/projects/{theirs}", headers={"Authorization": f"Bearer {developer.token}"})
    their_run = paths.create_run()
    paths.prefix = f"/projects/{mine}"
    paths.create_run()
    _error(_assert_same(paths.both("runs/log-metric", {"run_id": their_run, **GOOD})), 404, "RESOURCE_DOES_NOT_EXIST")
