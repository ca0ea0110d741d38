"""The fake GitLab, extended with what the merge-request bot writes: notes (paged), thread replies,
emoji reactions, project uploads and commit statuses. Bodies follow ../shared/gitlab-payloads/api.

`fail_next(count, status, path_regex)` makes the next matching calls answer with an error, to test
retries.
"""
from __future__ import annotations

import copy
import hashlib
import re
import threading
import time

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.gitlab_server import (
    NOT_FOUND, PAYLOADS, UNAUTHORIZED, FakeGitLab, FakeGitLabApp, FakeState, _json, _QuietHandler, payload,
)

NOTES = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/notes$")
NOTE = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/notes/(\d+)$")
DISCUSSION_NOTES = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/discussions/([\w-]+)/notes$")
NOTE_AWARD = re.compile(r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/notes/(\d+)/award_emoji$")
UPLOADS = re.compile(r"^/api/v4/projects/(\d+)/uploads$")
STATUSES = re.compile(r"^/api/v4/projects/(\d+)/statuses/([0-9a-f]+)$")


class BotFakeState(FakeState):
    def reset(self, **kwargs):
        super().reset(**kwargs)
        self.notes: dict[tuple[int, int], list[dict]] = {}
        self.uploads: dict[str, bytes] = {}
        self.statuses: list[dict] = []
        self.awards: list[dict] = []
        self.failures: list[dict] = []
        self.delays: list[dict] = []
        self.next_note_id = 5000

    def delay(self, seconds: float, path: str = ".*", method: str | None = None):
        """Answer matching calls only after `seconds` (to widen race windows)."""
        self.delays.append({"seconds": float(seconds), "path": path, "method": method})

    def fail_next(self, count: int, status: int = 502, path: str = ".*", method: str | None = None):
        self.failures.append({"count": int(count), "status": int(status), "path": path, "method": method})

    def add_note(self, project_id: int, iid: int, body: str, username: str, system: bool = False,
                 discussion_id: str | None = None) -> int:
        user = next((u for u in self.users.values() if u["username"] == username), {"id": 1, "username": username})
        return self._store_note(int(project_id), int(iid), body, user, system, discussion_id)

    def _store_note(self, project_id, iid, body, user, system=False, discussion_id=None) -> int:
        self.next_note_id += 1
        note = payload("merge_request_note")
        note.update(id=self.next_note_id, body=body, system=system, project_id=project_id, noteable_iid=iid)
        note["author"] = dict(note["author"], id=user["id"], username=user["username"])
        note["discussion_id"] = discussion_id or hashlib.sha1(str(self.next_note_id).encode()).hexdigest()
        self.notes.setdefault((project_id, iid), []).append(note)
        return self.next_note_id

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
        status = self.state.take_failure(request)
        if status is not None:
            self.state.log.append({"method": request.method, "path": request.path, "auth": None, "token": None,
                                   "failed": status})
            return _json({"message": f"{status} injected failure"}, status)
        for pattern, handler in (
            (NOTES, self.notes), (NOTE, self.note), (DISCUSSION_NOTES, self.discussion_note),
            (NOTE_AWARD, self.award), (UPLOADS, self.upload), (STATUSES, self.status),
        ):
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

    def _bot_state(self) -> dict:
        return {
            "notes": {f"{p}/{i}": notes for (p, i), notes in self.state.notes.items()},
            "uploads": {url: len(data) for url, data in self.state.uploads.items()},
            "upload_heads": {url: data[:8].hex() for url, data in self.state.uploads.items()},
            "statuses": self.state.statuses,
            "awards": self.state.awards,
        }

    def notes(self, request, user, project_id, iid):
        notes = self.state.notes.setdefault((project_id, iid), [])
        if request.method == "POST":
            note_id = self.state._store_note(project_id, iid, _form(request)["body"], user)
            return _json(notes[-1], 201) if notes[-1]["id"] == note_id else _json(NOT_FOUND, 404)
        per_page = int(request.args.get("per_page", 20))
        page = int(request.args.get("page", 1))
        ordered = notes if request.args.get("sort", "desc") == "asc" else list(reversed(notes))
        chunk = ordered[(page - 1) * per_page: page * per_page]
        response = _json(chunk)
        total_pages = max(1, -(-len(notes) // per_page))
        response.headers["X-Page"] = str(page)
        response.headers["X-Per-Page"] = str(per_page)
        response.headers["X-Total"] = str(len(notes))
        response.headers["X-Total-Pages"] = str(total_pages)
        if page < total_pages:
            base = request.base_url
            query = "&".join(f"{k}={v}" for k, v in request.args.items() if k != "page")
            response.headers["X-Next-Page"] = str(page + 1)
            response.headers["Link"] = f'<{base}?{query}&page={page + 1}>; rel="next"'
        return response

    def note(self, request, user, project_id, iid, note_id):
        for note in self.state.notes.get((project_id, iid), []):
            if note["id"] == note_id:
                if request.method == "PUT":
                    if note["author"]["id"] != user["id"]:
                        return _json({"message": "403 Forbidden"}, 403)
                    note["body"] = _form(request)["body"]
                return _json(note)
        return _json(NOT_FOUND, 404)

    def discussion_note(self, request, user, project_id, iid, discussion_id):
        self.state._store_note(project_id, iid, _form(request)["body"], user, discussion_id=discussion_id)
        return _json(self.state.notes[(project_id, iid)][-1], 201)

    def award(self, request, user, project_id, iid, note_id):
        body = payload("award_emoji")
        body.update(name=_form(request)["name"], awardable_id=note_id, awardable_type="Note")
        body["user"] = dict(body["user"], id=user["id"], username=user["username"])
        self.state.awards.append(body)
        return _json(body, 201)

    def upload(self, request, user, project_id):
        file = request.files["file"]
        data = file.read()
        secret = hashlib.md5(data).hexdigest()
        body = payload("project_upload")
        name = file.filename
        body.update(alt=name.rsplit(".", 1)[0], url=f"/uploads/{secret}/{name}",
                    full_path=f"/-/project/{project_id}/uploads/{secret}/{name}",
                    markdown=f"![{name.rsplit('.', 1)[0]}](/uploads/{secret}/{name})")
        self.state.uploads[body["url"]] = data
        return _json(body, 201)

    def status(self, request, user, project_id, sha):
        form = _form(request)
        body = copy.deepcopy(payload("commit_status"))
        body.update(sha=sha, name=form.get("name", "default"), status=form["state"],
                    description=form.get("description"), target_url=form.get("target_url"), ref=form.get("ref"))
        self.state.statuses.append(body)
        return _json(body, 201)


def _form(request: Request) -> dict:
    return request.get_json(silent=True) or request.form.to_dict()


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
