"""The fake GitLab, extended with what the merge-request bot writes: notes (paged), thread replies,
emoji reactions, project uploads and commit statuses. Bodies follow ../shared/gitlab-payloads/api.

`fail_next(count, status, path_regex)` makes the next matching calls answer with an error, to test
retries; `rate_limit_next(count, retry_after, path_regex)` answers them as GitLab's rate limiter does.

GitLab behaviours copied here (each cited where it is implemented): commit statuses joining the
pipeline matched by sha, `ref` and `pipeline_id` (or a new `external` pipeline), the 255-character
`target_url` limit; pages of 20 by default and at most 100 with GitLab's pagination headers; notes
sorted by `order_by`/`sort` with GitLab's id tie-breaker; uploads under a fresh random secret each
time; 429 with `Retry-After`.
"""
from __future__ import annotations

import copy
import hashlib
import re
import secrets
import threading
import time
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.gitlab_server import (
    NOT_FOUND, PAYLOADS, UNAUTHORIZED, FakeGitLab, FakeGitLabApp, FakeState, _json, _QuietHandler, payload,
)

NOTES = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/notes$")
NOTE = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/notes/(\d+)$")
DISCUSSION = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/discussions/([\w-]+)$")
DISCUSSION_NOTES = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/discussions/([\w-]+)/notes$")
NOTE_AWARD = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/notes/(\d+)/award_emoji$")
PROJECT_HOOKS = re.compile(r"^/api/v4/projects/(\d+)/hooks$")
PROJECT_HOOK = re.compile(r"^/api/v4/projects/(\d+)/hooks/(\d+)$")
UPLOADS = re.compile(r"^/api/v4/projects/(\d+)/uploads$")
STATUSES = re.compile(r"^/api/v4/projects/(\d+)/statuses/([0-9a-f]+)$")
PIPELINE = re.compile(r"^/api/v4/projects/(\d+)/pipelines/(\d+)$")

# lib/api/commit_statuses.rb: `state` values accepted by POST /projects/:id/statuses/:sha.
STATUS_STATES = ("pending", "running", "success", "failed", "canceled", "skipped")
# app/models/commit_status.rb / generic_commit_status.rb: `validates :target_url, length: { maximum: 255 }`
# (doc/api/commits.md: "target_url ... Must be 255 characters or fewer").
TARGET_URL_MAX = 255
# doc/api/rest/index.md, "Offset-based pagination": per_page defaults to 20, at most 100.
DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 100


class BotFakeState(FakeState):
    def reset(self, **kwargs):
        super().reset(**kwargs)
        self.notes: dict[tuple[int, int], list[dict]] = {}
        self.uploads: dict[str, bytes] = {}
        self.statuses: list[dict] = []
        self.awards: list[dict] = []
        self.failures: list[dict] = []
        self.delays: list[dict] = []
        self.rate_limits: list[dict] = []
        self.pipelines: dict[int, dict] = {}
        self.next_note_id = 5000
        self.next_pipeline_id = 900_000
        self.clock = 0
        self.hooks: dict[int, dict] = {}

    def delay(self, seconds: float, path: str = ".*", method: str | None = None):
        """Answer matching calls only after `seconds` (to widen race windows)."""
        self.delays.append({"seconds": float(seconds), "path": path, "method": method})

    def fail_next(self, count: int, status: int = 502, path: str = ".*", method: str | None = None):
        self.failures.append({"count": int(count), "status": int(status), "path": path, "method": method})

    def rate_limit_next(self, count: int, retry_after: int = 1, path: str = ".*", method: str | None = None):
        self.rate_limits.append({"count": int(count), "retry_after": int(retry_after), "path": path,
                                 "method": method})

    def add_pipeline(self, id: int, project_id: int, sha: str, ref: str, source: str = "push",
                     status: str = "success"):
        """A pipeline as GitLab stores it: merge request pipelines have the ref
        `refs/merge-requests/<iid>/head` and the source `merge_request_event` (doc/ci/pipelines/merge_request_pipelines.md)."""
        self.pipelines[int(id)] = {"id": int(id), "project_id": int(project_id), "sha": sha, "ref": ref,
                                   "source": source, "status": status}

    def set_merge_request_source_project(self, project_id: int, iid: int, source_project_id: int):
        """A merge request from a fork: its source branch lives in another project."""
        for mr in self.merge_requests.get(int(project_id), []):
            if mr["iid"] == int(iid):
                mr["source_project_id"] = int(source_project_id)

    def mr_body(self, project_id: int, mr: dict, single: bool = False) -> dict:
        body = super().mr_body(project_id, mr, single)
        body["source_project_id"] = mr.get("source_project_id", project_id)
        return body

    def known_pipelines(self, project_id: int) -> list[dict]:
        """Pipelines added explicitly, and those the scenario's jobs imply (a branch pipeline)."""
        found = {p["id"]: p for p in self.pipelines.values() if p["project_id"] == project_id}
        for job in self.jobs.values():
            if job["project_id"] == project_id and job["pipeline_id"] not in found:
                found[job["pipeline_id"]] = {"id": job["pipeline_id"], "project_id": project_id, "sha": job["sha"],
                                             "ref": job["ref"], "source": "push", "status": "success"}
        return list(found.values())

    def take_rate_limit(self, request: Request) -> int | None:
        for limit in self.rate_limits:
            if limit["count"] > 0 and re.search(limit["path"], request.path) and (
                limit["method"] in (None, request.method)
            ):
                limit["count"] -= 1
                return limit["retry_after"]
        return None

    def tick(self) -> str:
        """A strictly increasing timestamp, so created_at/updated_at order like GitLab's."""
        self.clock += 1
        return f"2026-01-01T00:{self.clock // 60 % 60:02d}:{self.clock % 60:02d}.{self.clock:06d}Z"

    def add_note(self, project_id: int, iid: int, body: str, username: str, system: bool = False,
                 discussion_id: str | None = None, note_id: int | None = None, internal: bool = False) -> int:
        user = next((u for u in self.users.values() if u["username"] == username), {"id": 1, "username": username})
        return self._store_note(int(project_id), int(iid), body, user, system, discussion_id, note_id, internal)

    def _store_note(self, project_id, iid, body, user, system=False, discussion_id=None, note_id=None,
                    internal=False) -> int:
        if note_id is None:
            self.next_note_id += 1
            note_id = self.next_note_id
        note = payload("merge_request_note")
        stamp = self.tick()
        note.update(id=int(note_id), body=body, system=system, project_id=project_id, noteable_iid=iid,
                    created_at=stamp, updated_at=stamp, internal=bool(internal), confidential=bool(internal))
        note["author"] = dict(note["author"], id=user["id"], username=user["username"])
        note["discussion_id"] = discussion_id or hashlib.sha1(str(note_id).encode()).hexdigest()
        self.notes.setdefault((project_id, iid), []).append(note)
        return int(note_id)

    def take_failure(self, request: Request) -> int | None:
        for failure in self.failures:
            if failure["count"] > 0 and re.search(failure["path"], request.path) and (
                failure["method"] in (None, request.method)
            ):
                failure["count"] -= 1
                return failure["status"]
        return None


class BotFakeApp(FakeGitLabApp):
    def __call__(self, environ, start_response):
        request = Request(environ)
        for delay in list(self.state.delays):  # outside the state lock: other calls go on meanwhile
            if re.search(delay["path"], request.path) and delay["method"] in (None, request.method):
                time.sleep(delay["seconds"])
        return super().__call__(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/_fake/"):
            if request.path == "/_fake/bot_state":
                return _json(self._bot_state())
            return super().dispatch(request)
        limited = self._rate_limited(request)
        if limited is not None:
            return limited
        status = self.state.take_failure(request)
        if status is not None:
            self.state.log.append({"method": request.method, "path": request.path, "auth": None, "token": None,
                                   "failed": status})
            return _json({"message": f"{status} injected failure"}, status)
        for pattern, handler in (
            (NOTES, self.notes), (NOTE, self.note), (DISCUSSION, self.discussion),
            (DISCUSSION_NOTES, self.discussion_note),
            (NOTE_AWARD, self.award), (UPLOADS, self.upload), (STATUSES, self.status),
            (PIPELINE, self.pipeline),
            (PROJECT_HOOKS, self.project_hooks), (PROJECT_HOOK, self.project_hook),
        ):
            if pattern is PIPELINE and not self._explicit_pipeline(request):
                continue
            match = pattern.match(request.path)
            if match:
                caller = self.state.caller(request)
                self.state.log.append({"method": request.method, "path": request.path, "auth": "bot",
                                       "token": None})
                if caller is None or caller[0] != "user":
                    return _json(UNAUTHORIZED, 401)
                user = self.state.users[caller[1]]
                args = [int(g) if g.isdigit() else g for g in match.groups()]
                return handler(request, user, *args)
        return super().dispatch(request)

    def _explicit_pipeline(self, request: Request) -> bool:
        match = PIPELINE.match(request.path)
        return bool(match) and int(match.group(2)) in self.state.pipelines

    def _rate_limited(self, request: Request) -> Response | None:
        """lib/gitlab/rack_attack.rb (throttled_responder) and doc/user/gitlab_com/_index.md: 429,
        `Retry later` as text/plain, `Retry-After` in seconds and the `RateLimit-*` headers."""
        throttled = self.state.throttled()  # the stand-in's instance-wide `rate_limit`
        if throttled is not None:
            return throttled
        retry_after = self.state.take_rate_limit(request)
        if retry_after is None:
            return None
        self.state.log.append({"method": request.method, "path": request.path, "auth": None, "token": None,
                               "failed": 429})
        now = int(time.time())
        return Response("Retry later\n", status=429, mimetype="text/plain", headers={
            "Retry-After": str(retry_after), "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Limit": "60", "RateLimit-Observed": "61", "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(now + retry_after),
            "RateLimit-ResetTime": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + retry_after)),
        })

    def _bot_state(self) -> dict:
        return {
            "notes": {f"{p}/{i}": notes for (p, i), notes in self.state.notes.items()},
            "uploads": {url: len(data) for url, data in self.state.uploads.items()},
            "upload_heads": {url: data[:8].hex() for url, data in self.state.uploads.items()},
            "statuses": self.state.statuses,
            "awards": self.state.awards,
            "hooks": list(self.state.hooks.values()),
        }

    def notes(self, request, user, project_id, iid):
        notes = self.state.notes.setdefault((project_id, iid), [])
        if request.method == "POST":
            form = _form(request)
            note_id = self.state._store_note(project_id, iid, form["body"], user, internal=_flag(form.get("internal")))
            return _json(notes[-1], 201) if notes[-1]["id"] == note_id else _json(NOT_FOUND, 404)
        return _paginated(request, _sorted_notes(notes, request))

    def note(self, request, user, project_id, iid, note_id):
        for note in self.state.notes.get((project_id, iid), []):
            if note["id"] == note_id:
                if request.method == "PUT":
                    if note["author"]["id"] != user["id"]:
                        return _json({"message": "403 Forbidden"}, 403)
                    note["body"] = _form(request)["body"]
                    note["updated_at"] = self.state.tick()
                return _json(note)
        return _json(NOT_FOUND, 404)

    def discussion(self, request, user, project_id, iid, discussion_id):
        """GET one thread: {"id", "individual_note", "notes": [...]} (doc/api/discussions.md,
        "Get single merge request discussion item"); 404 when the merge request has no such thread."""
        notes = [n for n in self.state.notes.get((project_id, iid), []) if n["discussion_id"] == discussion_id]
        if request.method != "GET" or not notes:
            return _json(NOT_FOUND, 404)
        return _json({"id": discussion_id, "individual_note": len(notes) == 1, "notes": notes})

    def discussion_note(self, request, user, project_id, iid, discussion_id):
        """A reply in a thread (doc/api/discussions.md, "Add note to existing merge request thread").
        Like app/services/notes/build_service.rb, the reply is as internal as its thread, whatever
        `internal` says, and a thread GitLab cannot find is a 404."""
        thread = [n for n in self.state.notes.get((project_id, iid), []) if n["discussion_id"] == discussion_id]
        if not thread:
            return _json({"message": "404 Discussion to reply to cannot be found"}, 404)
        self.state._store_note(project_id, iid, _form(request)["body"], user, discussion_id=discussion_id,
                               internal=thread[0]["internal"])
        return _json(self.state.notes[(project_id, iid)][-1], 201)

    def award(self, request, user, project_id, iid, note_id):
        """POST .../notes/:note_id/award_emoji. The same user awarding the same emoji twice gets
        404 "Award Emoji Name has already been taken" (lib/api/award_emoji.rb answers a failed
        award with `not_found!("Award Emoji #{message}")`; lib/api/helpers.rb's not_found! appends
        "Not Found")."""
        name = _form(request)["name"]
        if any(a["name"] == name and a["awardable_id"] == note_id and a["user"]["id"] == user["id"]
               for a in self.state.awards):
            return _json({"message": "404 Award Emoji Name has already been taken Not Found"}, 404)
        body = payload("award_emoji")
        body.update(name=name, awardable_id=note_id, awardable_type="Note")
        body["user"] = dict(body["user"], id=user["id"], username=user["username"])
        self.state.awards.append(body)
        return _json(body, 201)

    # ---- project hooks (doc/api/project_webhooks.md): Maintainer role or admin; GitLab keeps the
    # secret `token` but never shows it in an answer; `push_events` is on unless sent false.

    HOOK_EVENTS = ("push_events", "tag_push_events", "issues_events", "confidential_issues_events",
                   "merge_requests_events", "note_events", "confidential_note_events", "pipeline_events",
                   "job_events", "wiki_page_events", "deployment_events", "releases_events")

    def _hook_access(self, user, project_id):
        if not self.state.can_see(user["id"], project_id):
            return _json({"message": "404 Project Not Found"}, 404)
        if self.state.level(user["id"], project_id) < 40:
            return _json({"message": "403 Forbidden"}, 403)
        return None

    def _hook_body(self, hook: dict) -> dict:
        return {k: v for k, v in hook.items() if k != "token"}

    def project_hooks(self, request, user, project_id):
        denied = self._hook_access(user, project_id)
        if denied:
            return denied
        if request.method == "GET":
            return _json([self._hook_body(h) for h in self.state.hooks.values() if h["project_id"] == project_id])
        form = _form(request)
        if not form.get("url"):
            return _json({"message": "400 (Bad request) \"url\" not given"}, 400)
        hook_id = 100 + len(self.state.hooks) + 1
        hook = {"id": hook_id, "project_id": project_id, "url": form["url"], "name": form.get("name"),
                "token": form.get("token"), "enable_ssl_verification": _flag(form.get("enable_ssl_verification", True)),
                "created_at": "2026-01-01T00:00:00Z"}
        hook.update({event: _flag(form.get(event, event == "push_events")) for event in self.HOOK_EVENTS})
        self.state.hooks[hook_id] = hook
        return _json(self._hook_body(hook), 201)

    def project_hook(self, request, user, project_id, hook_id):
        denied = self._hook_access(user, project_id)
        if denied:
            return denied
        hook = self.state.hooks.get(hook_id)
        if hook is None or hook["project_id"] != project_id:
            return _json({"message": "404 Not found"}, 404)
        if request.method == "PUT":
            form = _form(request)
            for key in ("url", "name", "token"):
                if key in form:
                    hook[key] = form[key]
            for key in self.HOOK_EVENTS + ("enable_ssl_verification",):
                if key in form:
                    hook[key] = _flag(form[key])
        elif request.method == "DELETE":
            del self.state.hooks[hook_id]
            return Response(status=204)
        return _json(self._hook_body(hook))

    def upload(self, request, user, project_id):
        """doc/api/project_markdown_uploads.md "Upload a file": the answer carries `url`
        (`/uploads/<secret>/<name>`), `alt`, `full_path` and `markdown`. app/uploaders/file_uploader.rb
        (`generate_secret`) draws a new random secret for every upload: the same bytes uploaded twice
        are two files at two URLs."""
        file = request.files["file"]
        data = file.read()
        secret = secrets.token_hex(16)
        body = payload("project_upload")
        name = file.filename
        alt = name.rsplit(".", 1)[0]
        body.update(id=len(self.state.uploads) + 1, alt=alt, url=f"/uploads/{secret}/{name}",
                    full_path=f"/-/project/{project_id}/uploads/{secret}/{name}",
                    markdown=f"![{alt}](/uploads/{secret}/{name})")
        self.state.uploads[body["url"]] = data
        return _json(body, 201)

    def status(self, request, user, project_id, sha):
        """POST /projects/:id/statuses/:sha as app/services/ci/create_commit_status_service.rb does it:
        the status joins the newest pipeline of the sha, narrowed to `ref` and `pipeline_id` when given;
        a `pipeline_id` that matches nothing is 404; no match without one creates a new pipeline with
        the source `external`."""
        form = _form(request)
        state = form.get("state")
        if not state:
            return _json({"message": "400 Bad request - State is required"}, 400)
        if state not in STATUS_STATES:  # Grape's `values:` validation (lib/api/commit_statuses.rb)
            return _json({"error": "state does not have a valid value"}, 400)
        if len(form.get("target_url") or "") > TARGET_URL_MAX:
            return _json({"message": {"target_url": [f"is too long (maximum is {TARGET_URL_MAX} characters)"]}}, 400)
        pipeline = self._status_pipeline(project_id, sha, form.get("ref"), form.get("pipeline_id"))
        if pipeline is None:
            return _json({"message": "404 Pipeline for pipeline_id, sha and ref Not Found"}, 404)
        body = copy.deepcopy(payload("commit_status"))
        body.update(sha=sha, name=form.get("name") or form.get("context") or "default", status=state,
                    description=form.get("description"), target_url=form.get("target_url"), ref=pipeline["ref"])
        body["pipeline_id"] = pipeline["id"]
        body["pipeline_source"] = pipeline["source"]
        self.state.statuses.append(body)
        return _json(body, 201)

    def _status_pipeline(self, project_id: int, sha: str, ref: str | None, pipeline_id) -> dict | None:
        matching = sorted((p for p in self.state.known_pipelines(project_id) if p["sha"] == sha),
                          key=lambda p: p["id"], reverse=True)
        if ref:
            matching = [p for p in matching if p["ref"] == ref]
        if pipeline_id not in (None, ""):
            matching = [p for p in matching if p["id"] == int(pipeline_id)]
            return matching[0] if matching else None
        if matching:
            return matching[0]
        self.state.next_pipeline_id += 1
        created = {"id": self.state.next_pipeline_id, "project_id": project_id, "sha": sha,
                   "ref": ref or "main", "source": "external", "status": "running"}
        self.state.pipelines[created["id"]] = created
        return created

    def pipeline(self, request, user, project_id, pipeline_id):
        """GET /projects/:id/pipelines/:pipeline_id (doc/api/pipelines.md): the real ref, e.g.
        `refs/merge-requests/<iid>/head` for a merge request pipeline, and its source."""
        if request.method != "GET":
            return _json(NOT_FOUND, 404)
        if not self.state.can_see(user["id"], project_id):
            return _json({"message": "404 Project Not Found"}, 404)
        found = next((p for p in self.state.known_pipelines(project_id) if p["id"] == pipeline_id), None)
        if found is None:
            return _json(NOT_FOUND, 404)
        body = payload("pipeline")
        body.update(id=pipeline_id, project_id=project_id, sha=found["sha"], ref=found["ref"],
                    source=found["source"], status=found["status"],
                    web_url=f"http://gitlab.example.com/group/project-{project_id}/-/pipelines/{pipeline_id}")
        return _json(body)


def _sorted_notes(notes: list[dict], request: Request) -> list[dict]:
    """lib/api/notes.rb: `order_by` created_at (default) or updated_at, `sort` desc (default) or asc;
    lib/api/helpers.rb `order_options_with_tie_breaker`: created_at orders by id, updated_at ties by id."""
    descending = request.args.get("sort", "desc") != "asc"
    if request.args.get("order_by") == "updated_at":
        return sorted(notes, key=lambda n: (n["updated_at"], n["id"]), reverse=descending)
    return sorted(notes, key=lambda n: n["id"], reverse=descending)


def _paginated(request: Request, items: list) -> Response:
    """doc/api/rest/index.md, "Pagination": `page` from 1, `per_page` 20 by default and at most 100,
    with the X-Page, X-Per-Page, X-Total, X-Total-Pages, X-Next-Page, X-Prev-Page and Link headers."""
    try:
        per_page = int(request.args.get("per_page", DEFAULT_PER_PAGE))
        page = int(request.args.get("page", 1))
    except ValueError:
        return _json({"error": "per_page is invalid, page is invalid"}, 400)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = max(page, 1)
    total_pages = max(1, -(-len(items) // per_page))
    response = _json(items[(page - 1) * per_page: page * per_page])
    headers = response.headers
    headers["X-Page"], headers["X-Per-Page"] = str(page), str(per_page)
    headers["X-Total"], headers["X-Total-Pages"] = str(len(items)), str(total_pages)
    headers["X-Next-Page"] = str(page + 1) if page < total_pages else ""
    headers["X-Prev-Page"] = str(page - 1) if page > 1 else ""
    query = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def link(to_page: int, rel: str) -> str:
        return f'<{request.base_url}?{urlencode({**query, "page": to_page, "per_page": per_page})}>; rel="{rel}"'

    links = []
    if page > 1:
        links.append(link(page - 1, "prev"))
    if page < total_pages:
        links.append(link(page + 1, "next"))
    links += [link(1, "first"), link(total_pages, "last")]
    headers["Link"] = ", ".join(links)
    return response


def _form(request: Request) -> dict:
    return request.get_json(silent=True) or request.form.to_dict()


def _flag(value) -> bool:
    """A boolean API parameter, sent as JSON true or as form text "true"."""
    return value is True or str(value).lower() == "true"


class BotFakeGitLab(FakeGitLab):
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        if not PAYLOADS.is_dir():
            raise RuntimeError(f"GitLab example payloads not found at {PAYLOADS} (set MLTRACKER_GITLAB_PAYLOADS)")
        self.state = BotFakeState()
        self._server = make_server(host, port, BotFakeApp(self.state), threaded=True, request_handler=_QuietHandler)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __getattr__(self, op: str):
        if op.startswith("_") or not hasattr(BotFakeState, op):
            raise AttributeError(op)
        return lambda **kwargs: self.control(op, **kwargs)

    def bot_state(self) -> dict:
        import requests

        return requests.get(f"{self.url}/_fake/bot_state", timeout=10).json()
