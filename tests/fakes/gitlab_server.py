"""A fake GitLab: a real HTTP server (werkzeug, in a thread) answering the few REST endpoints
mltracker calls, with bodies built from GitLab's documented examples in
../shared/gitlab-payloads/api/*.json, fields overridden by the scenario's state.

Tests change the state through control endpoints (`POST /_fake/<operation>` with JSON keyword
arguments; `FakeGitLab` wraps them) and read back every request GitLab received
(`GET /_fake/requests`) to count calls.

Behaviour modelled on GitLab:
- user tokens (personal/project/group/OAuth) as `PRIVATE-TOKEN` or `Authorization: Bearer`;
  CI job tokens only as `JOB-TOKEN`; unknown or revoked tokens → 401 {"message": "401 Unauthorized"}.
- a job token stops working when its job finishes (401), unless `finished_job_tokens` is "answer"
  (then GET /job answers with the finished status).
- a private project is 404 for non-members; public and internal ones are visible to any user;
  `members/all/:user_id` is 404 for non-members; admins (the bot) see everything.
- mode "down" → 503 for every API call; "error" → 500.
- `rate_limit(retry_after, count)` → the next `count` API calls (all when None) answer 429 as GitLab's
  throttles do: text "Retry later", `Retry-After` in seconds and the `RateLimit-*` headers
  (doc/administration/settings/user_and_ip_rate_limits.md, "Response headers";
  lib/gitlab/rack_attack.rb and Gitlab::Throttle.rate_limiting_response_text).
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

REPO = Path(__file__).resolve().parents[2]
PAYLOADS = Path(os.environ.get("MLTRACKER_GITLAB_PAYLOADS", REPO.parent / "shared" / "gitlab-payloads")) / "api"


def payload(name: str):
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


UNAUTHORIZED = {"message": "401 Unauthorized"}


class FakeState:
    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self, **_):
        with self.lock:
            self.users: dict[int, dict] = {}
            self.tokens: dict[str, dict] = {}
            self.projects: dict[int, dict] = {}
            self.jobs: dict[int, dict] = {}
            self.merge_requests: dict[int, list[dict]] = {}
            self.mode = "up"
            self.finished_job_tokens = "reject"
            self.log: list[dict] = []
            self.throttle: dict | None = None

    # ---- control operations (keyword arguments come from JSON)

    def add_user(self, id: int, username: str, admin: bool = False):
        self.users[int(id)] = {"id": int(id), "username": username, "admin": admin}

    def add_token(self, token: str, user_id: int, expires_at: float | None = None, scopes: list[str] | None = None):
        self.tokens[token] = {"kind": "user", "user_id": int(user_id), "revoked": False, "expires_at": expires_at,
                              "scopes": list(scopes) if scopes is not None else ["api"]}

    def add_job_token(self, token: str, job_id: int):
        self.tokens[token] = {"kind": "job", "job_id": int(job_id), "revoked": False}

    def revoke(self, token: str):
        self.tokens[token]["revoked"] = True

    def add_project(self, id: int, visibility: str = "private", members: dict | None = None,
                    name: str | None = None, default_branch: str = "main"):
        self.projects[int(id)] = {
            "id": int(id), "visibility": visibility, "name": name or f"project-{id}",
            "members": {int(k): int(v) for k, v in (members or {}).items()}, "default_branch": default_branch,
        }

    def set_member(self, project_id: int, user_id: int, access_level: int | None):
        members = self.projects[int(project_id)]["members"]
        if access_level is None:
            members.pop(int(user_id), None)
        else:
            members[int(user_id)] = int(access_level)

    def add_job(self, id: int, project_id: int, pipeline_id: int, user_id: int, ref: str = "main",
                sha: str = "0ff3ae198f8601a285adcf5c0fff204ee6fba5fd", status: str = "running", name: str = "train"):
        self.jobs[int(id)] = {
            "id": int(id), "project_id": int(project_id), "pipeline_id": int(pipeline_id), "user_id": int(user_id),
            "ref": ref, "sha": sha, "status": status, "name": name,
        }

    def set_job_status(self, job_id: int, status: str):
        self.jobs[int(job_id)]["status"] = status

    def add_merge_request(self, project_id: int, iid: int, source_branch: str, target_branch: str = "main",
                          shas: list[str] | None = None, state: str = "opened"):
        self.merge_requests.setdefault(int(project_id), []).append({
            "iid": int(iid), "source_branch": source_branch, "target_branch": target_branch,
            "shas": list(shas or []), "state": state,
        })

    def set_mode(self, mode: str):
        self.mode = mode

    def rate_limit(self, retry_after: int = 30, count: int | None = None):
        self.throttle = {"retry_after": int(retry_after), "left": None if count is None else int(count)}

    def throttled(self) -> Response | None:
        """GitLab's 429 when a rate limit is set (and has calls left), else None."""
        if self.throttle is None:
            return None
        if self.throttle["left"] is not None:
            if self.throttle["left"] <= 0:
                self.throttle = None
                return None
            self.throttle["left"] -= 1
        wait = self.throttle["retry_after"]
        now = int(time.time())
        return Response("Retry later\n", status=429, mimetype="text/plain", headers={
            "Retry-After": str(wait), "RateLimit-Limit": "600", "RateLimit-Observed": "601",
            "RateLimit-Remaining": "0", "RateLimit-Reset": str(now + wait),
            "RateLimit-ResetTime": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + wait)),
        })

    def set_finished_job_tokens(self, behaviour: str):
        self.finished_job_tokens = behaviour

    def clear_requests(self):
        self.log.clear()

    # ---- GitLab-shaped bodies

    def user_body(self, user_id: int) -> dict:
        body = payload("user")
        user = self.users[user_id]
        body.update(id=user_id, username=user["username"], name=user["username"].title(),
                    web_url=f"http://gitlab.example.com/{user['username']}")
        if user["admin"]:
            body["is_admin"] = True
        return body

    def job_body(self, job_id: int) -> dict:
        job = self.jobs[job_id]
        body = payload("job_from_job_token")
        body.update(id=job_id, name=job["name"], status=job["status"], ref=job["ref"],
                    web_url=f"http://gitlab.example.com/group/project-{job['project_id']}/-/jobs/{job_id}")
        body["pipeline"] = dict(body["pipeline"], id=job["pipeline_id"], project_id=job["project_id"],
                                ref=job["ref"], sha=job["sha"], status=job["status"])
        body["commit"] = dict(body["commit"], id=job["sha"], short_id=job["sha"][:8])
        user = self.users[job["user_id"]]
        body["user"] = dict(body["user"], id=user["id"], username=user["username"], name=user["username"].title())
        if job["status"] != "running":
            body["finished_at"] = body["finished_at"] or "2015-12-24T17:54:31.198Z"
        else:
            body["finished_at"] = None
        return body

    def project_body(self, project_id: int) -> dict:
        p = self.projects[project_id]
        return {
            "id": project_id, "name": p["name"], "path": p["name"], "path_with_namespace": f"group/{p['name']}",
            "visibility": p["visibility"], "default_branch": p["default_branch"],
            "web_url": f"http://gitlab.example.com/group/{p['name']}",
        }

    def member_body(self, user_id: int, level: int) -> dict:
        body = payload("project_member")
        user = self.users[user_id]
        body.update(id=user_id, username=user["username"], name=user["username"].title(), access_level=level)
        return body

    def mr_body(self, project_id: int, mr: dict, single: bool = False) -> dict:
        body = payload("merge_request") if single else payload("merge_requests_for_commit")[0]
        body.update(iid=mr["iid"], id=10_000 + mr["iid"], project_id=project_id, source_project_id=project_id,
                    target_project_id=project_id, source_branch=mr["source_branch"],
                    target_branch=mr["target_branch"], state=mr["state"], sha=(mr["shas"] or [body["sha"]])[-1])
        return body

    # ---- authentication and visibility

    def caller(self, request: Request):
        """("user", user_id) | ("job", job_id) | None (401)."""
        job_token = request.headers.get("JOB-TOKEN")
        if job_token is not None:
            entry = self.tokens.get(job_token)
            if not entry or entry["revoked"] or entry["kind"] != "job":
                return None
            job = self.jobs.get(entry["job_id"])
            if job is None or (job["status"] != "running" and self.finished_job_tokens == "reject"):
                return None
            return ("job", entry["job_id"])
        token = request.headers.get("PRIVATE-TOKEN")
        auth = request.headers.get("Authorization", "")
        if token is None and auth.startswith("Bearer "):
            token = auth[len("Bearer "):]
        entry = self.tokens.get(token or "")
        if not entry or entry["revoked"] or entry["kind"] != "user":
            return None
        if entry.get("expires_at") is not None and time.time() >= entry["expires_at"]:
            return None  # an expired OAuth token is a 401 like a revoked one
        return ("user", entry["user_id"])

    def can_see(self, user_id: int, project_id: int) -> bool:
        project = self.projects.get(project_id)
        if project is None:
            return False
        if self.users[user_id]["admin"] or user_id in project["members"]:
            return True
        return project["visibility"] in ("public", "internal")

    def level(self, user_id: int, project_id: int) -> int:
        if self.users[user_id]["admin"]:
            return 50
        return self.projects[project_id]["members"].get(user_id, 0)


ROUTES = [
    ("user", re.compile(r"^/api/v4/user$")),
    ("token_self", re.compile(r"^/api/v4/personal_access_tokens/self$")),
    ("job", re.compile(r"^/api/v4/job$")),
    ("project", re.compile(r"^/api/v4/projects/(\d+)$")),
    ("member", re.compile(r"^/api/v4/projects/(\d+)/members/all/(\d+)$")),
    ("project_job", re.compile(r"^/api/v4/projects/(\d+)/jobs/(\d+)$")),
    ("pipeline", re.compile(r"^/api/v4/projects/(\d+)/pipelines/(\d+)$")),
    ("commit_mrs", re.compile(r"^/api/v4/projects/(\d+)/repository/commits/([0-9a-f]+)/merge_requests$")),
    ("mr", re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)$")),
]
NOT_FOUND = {"message": "404 Not found"}
PROJECT_NOT_FOUND = {"message": "404 Project Not Found"}


class FakeGitLabApp:
    def __init__(self, state: FakeState):
        self.state = state

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.state.lock:
            response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        state = self.state
        if request.path.startswith("/_fake/"):
            return self.control(request)
        auth_kind = ("job" if "JOB-TOKEN" in request.headers else "private" if "PRIVATE-TOKEN" in request.headers
                     else "bearer" if request.headers.get("Authorization", "").startswith("Bearer ") else None)
        token = (request.headers.get("JOB-TOKEN") or request.headers.get("PRIVATE-TOKEN")
                 or request.headers.get("Authorization", "")[len("Bearer "):] or None)
        state.log.append({"method": request.method, "path": request.path, "auth": auth_kind, "token": token})
        throttled = state.throttled()
        if throttled is not None:
            return throttled
        if state.mode == "down":
            return Response("<html>502 Bad Gateway</html>", status=503, mimetype="text/html")
        if state.mode == "error":
            return _json({"message": "500 Internal Server Error"}, 500)
        for name, pattern in ROUTES:
            match = pattern.match(request.path)
            if match and request.method == "GET":
                # ids are numbers; a commit SHA stays a string even when it has only digits
                args = [g if name == "commit_mrs" and i == 1 else int(g) for i, g in enumerate(match.groups())]
                return getattr(self, f"get_{name}")(request, *args)
        return _json(NOT_FOUND, 404)

    def control(self, request: Request) -> Response:
        op = request.path[len("/_fake/"):]
        if op == "requests":
            return _json(self.state.log)
        kwargs = request.get_json(silent=True) or {}
        method = getattr(self.state, op, None)
        if method is None or op.startswith("_") or op in ("caller", "can_see", "level", "throttled") or op.endswith("_body"):
            return _json({"message": f"no operation {op}"}, 404)
        method(**kwargs)
        return _json({"ok": True})

    # ---- endpoints

    def _user_caller(self, request):
        caller = self.state.caller(request)
        if caller is None:
            return None, _json(UNAUTHORIZED, 401)
        if caller[0] != "user":
            return None, _json({"message": "403 Forbidden"}, 403)
        return caller[1], None

    def get_user(self, request):
        caller = self.state.caller(request)
        if caller is None or caller[0] != "user":
            return _json(UNAUTHORIZED, 401)
        return _json(self.state.user_body(caller[1]))

    def get_token_self(self, request):
        """doc/api/personal_access_tokens.md, "Get single personal access token" (`self`): the
        token of the request, its scopes and user (also for project and group access tokens)."""
        caller = self.state.caller(request)
        if caller is None or caller[0] != "user":
            return _json(UNAUTHORIZED, 401)
        token = request.headers.get("PRIVATE-TOKEN") or request.headers.get("Authorization", "")[len("Bearer "):]
        body = payload("personal_access_token_self")
        body.update(user_id=caller[1], scopes=self.state.tokens[token]["scopes"])
        return _json(body)

    def get_job(self, request):
        caller = self.state.caller(request)
        if caller is None or caller[0] != "job":
            return _json(UNAUTHORIZED, 401)
        return _json(self.state.job_body(caller[1]))

    def get_project(self, request, project_id):
        user_id, error = self._user_caller(request)
        if error:
            return error
        if not self.state.can_see(user_id, project_id):
            return _json(PROJECT_NOT_FOUND, 404)
        return _json(self.state.project_body(project_id))

    def get_member(self, request, project_id, member_id):
        user_id, error = self._user_caller(request)
        if error:
            return error
        if not self.state.can_see(user_id, project_id):
            return _json(PROJECT_NOT_FOUND, 404)
        level = self.state.projects[project_id]["members"].get(member_id)
        if level is None or member_id not in self.state.users:
            return _json(NOT_FOUND, 404)
        return _json(self.state.member_body(member_id, level))

    def get_project_job(self, request, project_id, job_id):
        user_id, error = self._user_caller(request)
        if error:
            return error
        if not self.state.can_see(user_id, project_id):
            return _json(PROJECT_NOT_FOUND, 404)
        if self.state.level(user_id, project_id) < 20:
            return _json({"message": "403 Forbidden"}, 403)
        job = self.state.jobs.get(job_id)
        if job is None or job["project_id"] != project_id:
            return _json({"message": "404 Job Not Found"}, 404)
        return _json(self.state.job_body(job_id))

    def get_pipeline(self, request, project_id, pipeline_id):
        user_id, error = self._user_caller(request)
        if error:
            return error
        if not self.state.can_see(user_id, project_id):
            return _json(PROJECT_NOT_FOUND, 404)
        jobs = [j for j in self.state.jobs.values() if j["pipeline_id"] == pipeline_id and j["project_id"] == project_id]
        if not jobs:
            return _json({"message": "404 Not found"}, 404)
        body = payload("pipeline")
        body.update(id=pipeline_id, project_id=project_id, ref=jobs[0]["ref"], sha=jobs[0]["sha"])
        return _json(body)

    def get_commit_mrs(self, request, project_id, sha):
        user_id, error = self._user_caller(request)
        if error:
            return error
        if not self.state.can_see(user_id, project_id):
            return _json(PROJECT_NOT_FOUND, 404)
        mrs = [m for m in self.state.merge_requests.get(project_id, []) if sha in m["shas"]]
        return _json([self.state.mr_body(project_id, m) for m in mrs])

    def get_mr(self, request, project_id, iid):
        user_id, error = self._user_caller(request)
        if error:
            return error
        if not self.state.can_see(user_id, project_id):
            return _json(PROJECT_NOT_FOUND, 404)
        for mr in self.state.merge_requests.get(project_id, []):
            if mr["iid"] == iid:
                return _json(self.state.mr_body(project_id, mr, single=True))
        return _json(NOT_FOUND, 404)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class FakeGitLab:
    """The server (in a thread) and a client for its control endpoints."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        if not PAYLOADS.is_dir():
            raise RuntimeError(f"GitLab example payloads not found at {PAYLOADS} (set MLTRACKER_GITLAB_PAYLOADS)")
        self.state = FakeState()
        self._server = make_server(host, port, FakeGitLabApp(self.state), threaded=True,
                                   request_handler=_QuietHandler)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakeGitLab":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- control, over HTTP like any out-of-process test would

    def control(self, op: str, **kwargs) -> None:
        response = requests.post(f"{self.url}/_fake/{op}", json=kwargs, timeout=10)
        response.raise_for_status()

    def __getattr__(self, op: str):
        if op.startswith("_") or not hasattr(FakeState, op):
            raise AttributeError(op)
        return lambda **kwargs: self.control(op, **kwargs)

    def requests(self) -> list[dict]:
        return requests.get(f"{self.url}/_fake/requests", timeout=10).json()

    def count(self, path: str | None = None, token: str | None = None) -> int:
        return sum(
            1 for r in self.requests()
            if (path is None or r["path"] == path or re.fullmatch(path, r["path"]))
            and (token is None or r["token"] == token)
        )
