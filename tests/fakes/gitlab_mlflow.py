"""GitLab's built-in experiment tracking (`<gitlab>/api/v4/projects/<id>/ml/mlflow`), in front of a
real `mlflow server`, on the same port as the fake GitLab REST API of tests/fakes/gitlab_server.py
(whose state — users, tokens, projects, jobs — it shares and whose routes it serves unchanged).

GitLab's MLflow API is MLflow's REST API with fewer routes and a few differences, modelled here on
GitLab's doc `doc/user/project/ml/experiment_tracking/mlflow_client.md` ("Supported MLflow client
methods and caveats") and its source:
- routes: only those of `lib/api/ml/mlflow/{experiments,runs,metrics,registered_models,
  model_versions}.rb` and `lib/api/ml/mlflow_artifacts/artifacts.rb`; any other path is Grape's 404
  `{"error": "404 Not Found"}` (no MLflow error code): e.g. logged-models, model-versions/search.
- authentication (`lib/api/ml/mlflow/entrypoint.rb`: `authenticate!`, scope api / read_api):
  `Authorization: Bearer <token>` or `PRIVATE-TOKEN`; otherwise 401 `{"message": "401 Unauthorized"}`;
  reading needs Reporter on a visible project, writing Developer.
- `experiments/search` ignores `filter` and `view_type`: active experiments only (experiments.rb);
- `runs/search` takes the first of `experiment_ids`, ignores `filter` and `run_view_type`, at most
  1000 per page (runs.rb); deleted candidates are destroyed (`Ml::DestroyCandidateService`), so
  none is ever listed;
- a run is `info` + `data` only (`lib/api/entities/ml/mlflow/run.rb`): no inputs or outputs;
  `lifecycle_stage` is always "active" (run_info.rb);
- a run's `artifact_uri` is its package: `<gitlab>/api/v4/projects/<id>/packages/ml_models/
  candidate:<iid>/files/` (run_info.rb `ml_model_candidate_uri`), listed through
  `mlflow-artifacts/artifacts?path=candidate:<iid>` — every file of the package, flat; any deeper
  path lists nothing — and downloaded from `mlflow-artifacts/artifacts/candidate:<iid>/<file path>`
  (artifacts.rb) or from the package files URL;
- `metrics/get-history` pages at most 1000 points (metrics.rb); `registered-models/search` at most
  1000 models (registered_models.rb);
- the model registry (models, versions, their candidates and packages): tests/fakes/gitlab_model_registry.py.
"""
from __future__ import annotations

import itertools
import json
import posixpath
import re
import threading
from urllib.parse import quote

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.gitlab_model_registry import GitLabModelRegistry
from tests.fakes.gitlab_server import FakeGitLab, FakeGitLabApp, FakeState, _QuietHandler

ML_PREFIX = re.compile(r"^/api/v4/projects/(\d+)/ml/mlflow/api/2\.0/(mlflow|mlflow-artifacts)/(.*)$")
PACKAGE_FILES = re.compile(r"^/api/v4/projects/(\d+)/packages/ml_models/(candidate:)?(\d+)/files/(.+)$")
REPORTER, DEVELOPER = 20, 30

# (method, route) → written by the route (needs Developer)
MLFLOW_ROUTES = {
    ("GET", "experiments/get"): False, ("GET", "experiments/get-by-name"): False,
    ("GET", "experiments/list"): False, ("POST", "experiments/search"): False,
    ("POST", "experiments/create"): True, ("POST", "experiments/set-experiment-tag"): True,
    ("POST", "experiments/delete"): True,
    ("POST", "runs/create"): True, ("GET", "runs/get"): False, ("POST", "runs/search"): False,
    ("POST", "runs/update"): True, ("POST", "runs/log-metric"): True, ("POST", "runs/log-parameter"): True,
    ("POST", "runs/set-tag"): True, ("POST", "runs/log-batch"): True, ("POST", "runs/delete"): True,
    ("GET", "metrics/get-history"): False,
    ("POST", "registered-models/create"): True, ("GET", "registered-models/get"): False,
    ("PATCH", "registered-models/update"): True, ("POST", "registered-models/get-latest-versions"): False,
    ("DELETE", "registered-models/delete"): True, ("GET", "registered-models/search"): False,
    ("GET", "registered-models/alias"): False,
    ("POST", "model-versions/create"): True, ("GET", "model-versions/get-download-uri"): False,
    ("GET", "model-versions/get"): False, ("PATCH", "model-versions/update"): True,
}
GRAPE_NOT_FOUND = {"error": "404 Not Found"}
MAX_PAGE = 1000


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class _MlflowFront:
    """The /ml/mlflow routes of one GitLab, answered from the real mlflow server behind it."""

    def __init__(self, state: FakeState, mlflow_url: str, gitlab_url_holder: list):
        self.state = state
        self.mlflow = mlflow_url.rstrip("/")
        self.gitlab_url = gitlab_url_holder
        self.iids: dict[str, int] = {}
        self.runs_by_iid: dict[int, str] = {}
        self._next_iid = itertools.count(1)
        self.lock = threading.Lock()
        self.registry = GitLabModelRegistry(mlflow_url, gitlab_url_holder)

    # ---- identity

    def allowed(self, request: Request, project_id: int, write: bool) -> Response | None:
        with self.state.lock:
            caller = self.state.caller(request)
            if caller is None or caller[0] != "user":
                return _json({"message": "401 Unauthorized"}, 401)
            if not self.state.can_see(caller[1], project_id):
                return _json({"message": "404 Project Not Found"}, 404)
            if self.state.level(caller[1], project_id) < (DEVELOPER if write else REPORTER):
                return _json({"message": "403 Forbidden"}, 403)
        return None

    # ---- routing

    def __call__(self, request: Request, project_id: int, api: str, route: str) -> Response:
        if api == "mlflow-artifacts":
            denied = self.allowed(request, project_id, write=False)
            return denied or self.artifacts(request, project_id, route)
        write = MLFLOW_ROUTES.get((request.method, route))
        if write is None:
            return _json(GRAPE_NOT_FOUND, 404)
        denied = self.allowed(request, project_id, write)
        if denied:
            return denied
        handler = getattr(self, route.replace("/", "_").replace("-", "_"), None)
        if handler is not None:
            return handler(request, project_id)
        return self.forward(request, route)

    def forward(self, request: Request, route: str, params=None, body=None) -> Response:
        response = requests.request(
            request.method, f"{self.mlflow}/api/2.0/mlflow/{route}",
            params=params if params is not None else request.args,
            data=None if body is not None else request.get_data(),
            json=body, headers={"Content-Type": "application/json"}, timeout=60,
        )
        return Response(response.content, status=response.status_code, mimetype="application/json")

    def _call(self, method: str, route: str, **kwargs) -> dict:
        response = requests.request(method, f"{self.mlflow}/api/2.0/mlflow/{route}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    # ---- routes that differ from MLflow's

    def experiments_list(self, request, project_id):
        return _json({"experiments": self._call("POST", "experiments/search", json={"max_results": 1000})
                      .get("experiments", [])})

    def experiments_search(self, request, project_id):
        body = request.get_json(silent=True) or {}
        body = {k: v for k, v in body.items() if k in ("max_results", "order_by", "page_token")}
        body["max_results"] = min(int(body.get("max_results") or 200), MAX_PAGE)
        return self.forward(request, "experiments/search", body=body)

    def runs_search(self, request, project_id):
        body = request.get_json(silent=True) or {}
        query = {"experiment_ids": (body.get("experiment_ids") or [])[:1],
                 "max_results": min(int(body.get("max_results") or 200), MAX_PAGE)}
        if body.get("page_token"):
            query["page_token"] = body["page_token"]
        page = self._call("POST", "runs/search", json=query)
        page["runs"] = [self._as_candidate(project_id, run) for run in page.get("runs", [])]
        return _json(page)

    def runs_get(self, request, project_id):
        found = requests.get(f"{self.mlflow}/api/2.0/mlflow/runs/get", params=request.args, timeout=60)
        if found.status_code != 200:
            return Response(found.content, status=found.status_code, mimetype="application/json")
        run = found.json()["run"]
        if run["info"].get("lifecycle_stage") == "deleted":
            return _json({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run not found"}, 404)
        return _json({"run": self._as_candidate(project_id, run)})

    def metrics_get_history(self, request, project_id):
        params = dict(request.args)
        params["max_results"] = min(int(params.get("max_results") or MAX_PAGE), MAX_PAGE)
        return self.forward(request, "metrics/get-history", params=params)

    # ---- the model registry (tests/fakes/gitlab_model_registry.py)

    def registered_models_create(self, request, project_id):
        body = request.get_json(silent=True) or {}
        name = body.get("name")
        if not name:
            return _json({"error": "name is missing"}, 400)
        if name in self.registry.models:
            return _json({"error_code": "RESOURCE_ALREADY_EXISTS"}, 400)
        path = self.state.project_body(project_id)["path_with_namespace"]
        return _json({"registered_model": self.registry.create_model(name, body.get("description"), path)})

    def registered_models_get(self, request, project_id):
        name = request.args.get("name", "")
        if name not in self.registry.models:
            return _json({"error_code": "RESOURCE_DOES_NOT_EXIST"}, 404)
        return _json({"registered_model": self.registry.model_entity(name)})

    def registered_models_search(self, request, project_id):
        max_results = min(int(request.args.get("max_results") or 200), MAX_PAGE)
        names = sorted(self.registry.models)[:max_results]
        return _json({"registered_models": [self.registry.model_entity(n) for n in names]})

    def registered_models_get_latest_versions(self, request, project_id):
        name = (request.get_json(silent=True) or {}).get("name", "")
        if name not in self.registry.models:
            return _json({"error_code": "RESOURCE_DOES_NOT_EXIST"}, 404)
        latest = self.registry.latest(name)
        return _json({"model_versions": [self.registry.version_entity(latest)] if latest else [None]})

    def registered_models_alias(self, request, project_id):
        return self._version_by_semver(request.args.get("name", ""), request.args.get("alias", ""))

    def model_versions_get(self, request, project_id):
        return self._version_by_semver(request.args.get("name", ""), request.args.get("version", ""))

    def _version_by_semver(self, name: str, semver: str) -> Response:
        version = self.registry.by_semver(name, semver)
        if version is None:
            return _json({"error_code": "RESOURCE_DOES_NOT_EXIST"}, 404)
        return _json({"model_version": self.registry.version_entity(version)})

    def model_versions_create(self, request, project_id):
        body = request.get_json(silent=True) or {}
        if body.get("name") not in self.registry.models:
            return _json({"error_code": "RESOURCE_DOES_NOT_EXIST"}, 404)
        version = self.registry.create_version(body["name"], body.get("description"), body.get("tags") or [])
        return _json({"model_version": version})

    def upload(self, request: Request, version_id: int, path: str) -> Response:
        root = self.registry.candidate_root(version_id)
        if root is None:
            return _json({"message": "404 Not Found"}, 404)
        stored = requests.put(f"{self.mlflow}/api/2.0/mlflow-artifacts/artifacts/{root}/{quote(path)}",
                              data=request.get_data(), timeout=60)
        return _json({"message": "201 Created"} if stored.ok else {"message": "400 Bad request"},
                     201 if stored.ok else 400)

    def _as_candidate(self, project_id: int, run: dict) -> dict:
        info = dict(run["info"])
        with self.lock:
            iid = self.iids.get(info["run_id"])
            if iid is None:
                iid = self.iids[info["run_id"]] = next(self._next_iid)
                self.runs_by_iid[iid] = info["run_id"]
        info["lifecycle_stage"] = "active"
        version_id = self.registry.version_of_run.get(info["run_id"])
        package = f"candidate:{iid}" if version_id is None else str(version_id)
        info["artifact_uri"] = f"{self.gitlab_url[0]}/api/v4/projects/{project_id}/packages/ml_models/{package}/files/"
        return {"info": info, "data": run.get("data") or {}}

    # ---- artifacts of candidates

    def _package_root(self, package: str) -> str | None:
        """The mlflow-artifacts path of a package: `candidate:<iid>` or a model version's id."""
        match = re.fullmatch(r"(candidate:)?(\d+)", package)
        if match is None:
            return None
        return self._mlflow_root(int(match.group(2))) if match.group(1) else self.registry.candidate_root(int(match.group(2)))

    def _mlflow_root(self, iid: int) -> str | None:
        run_id = self.runs_by_iid.get(iid)
        if run_id is None:
            return None
        uri = self._call("GET", "runs/get", params={"run_id": run_id})["run"]["info"]["artifact_uri"]
        return uri.split(":", 1)[1].lstrip("/")

    def artifacts(self, request: Request, project_id: int, route: str) -> Response:
        if route == "artifacts" and request.method == "GET":
            package, _, path = (request.args.get("path") or "").partition("/")
            root = self._package_root(package)
            if root is None or path:
                return _json({"files": []})
            return _json({"files": self._flat(root, "")})
        match = re.fullmatch(r"artifacts/((?:candidate:)?\d+)/(.+)", route)
        if request.method == "GET" and match:
            return self.download(match.group(1), match.group(2))
        return _json(GRAPE_NOT_FOUND, 404)

    def _flat(self, root: str, relative: str) -> list[dict]:
        listed = requests.get(f"{self.mlflow}/api/2.0/mlflow-artifacts/artifacts",
                              params={"path": posixpath.join(root, relative) if relative else root}, timeout=60)
        files = []
        for entry in listed.json().get("files", []):
            path = posixpath.join(relative, entry["path"]) if relative else entry["path"]
            if entry.get("is_dir"):
                files += self._flat(root, path)
            else:
                files.append({"path": path, "is_dir": False, "file_size": entry.get("file_size", 0)})
        return files

    def download(self, package: str, path: str) -> Response:
        root = self._package_root(package)
        if root is None:
            return _json({"message": "404 Not Found"}, 404)
        upstream = requests.get(f"{self.mlflow}/api/2.0/mlflow-artifacts/artifacts/{root}/{quote(path)}",
                                stream=True, timeout=60)
        if upstream.status_code != 200:
            return _json({"message": "404 Not Found"}, 404)
        return Response(upstream.iter_content(64 * 1024), status=200, mimetype="application/octet-stream",
                        direct_passthrough=True)


class _App:
    def __init__(self, gitlab: FakeGitLabApp, front: _MlflowFront):
        self.gitlab, self.front = gitlab, front

    def __call__(self, environ, start_response):
        request = Request(environ)
        match = ML_PREFIX.match(request.path)
        if match:
            return self.front(request, int(match.group(1)), match.group(2), match.group(3))(environ, start_response)
        package = PACKAGE_FILES.match(request.path)
        if package and request.method in ("GET", "PUT"):
            write = request.method == "PUT"
            denied = self.front.allowed(request, int(package.group(1)), write=write)
            name = (package.group(2) or "") + package.group(3)
            if denied:
                response = denied
            elif write:
                response = self.front.upload(request, int(package.group(3)), package.group(4)) if not package.group(2) \
                    else _json(GRAPE_NOT_FOUND, 404)
            else:
                response = self.front.download(name, package.group(4))
            return response(environ, start_response)
        return self.gitlab(environ, start_response)


class FakeGitLabWithMlflow(FakeGitLab):
    """FakeGitLab (same control operations) whose projects also answer GitLab's MLflow API."""

    def __init__(self, mlflow_url: str, host: str = "127.0.0.1"):
        self.state = FakeState()
        url_holder = [""]
        self.front = _MlflowFront(self.state, mlflow_url, url_holder)
        self._server = make_server(host, 0, _App(FakeGitLabApp(self.state), self.front), threaded=True,
                                   request_handler=_QuietHandler)
        self.url = url_holder[0] = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def tracking_uri(self, project_id: int) -> str:
        return f"{self.url}/api/v4/projects/{project_id}/ml/mlflow"
