"""What the bot needs from GitLab, over python-gitlab with the bot's own token.

Uses the service's GitLab adapter (its clients, connection pool and error translation); every call
goes through bot/gitlab_errors.py's `gitlab_call`: GitLab being unavailable (5xx, timeouts) surfaces
as TransientError so the job is retried; a 429 as RetryAfter (the job waits for `Retry-After`); a
refusal (400/401/403/404/422) as GitLabRefused, which fails the job at once.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import quote

from gitlab import exceptions as gl_exc

from mltracker.bot.gitlab_errors import gitlab_call
from mltracker.service.gitlab import GitLabAdapter
from mltracker.service.gitlab.limits import COMMIT_STATUS_DESCRIPTION_MAX, COMMIT_STATUS_TARGET_URL_MAX


@dataclass(frozen=True)
class Pipeline:
    """A pipeline as GitLab's API describes it (its real `ref`, e.g. `refs/merge-requests/7/head`)."""
    id: int
    project_id: int
    sha: str
    ref: str
    source: str


@dataclass(frozen=True)
class Note:
    id: int
    body: str
    author_username: str
    system: bool


@dataclass(frozen=True)
class CommandNote:
    """A merge-request note as GitLab itself reports it (never as a webhook payload claims)."""

    id: int
    project_id: int
    merge_request_iid: int
    body: str
    author_id: int
    author_username: str
    system: bool
    internal: bool


@contextmanager
def _awarded_already_ok() -> Iterator[None]:
    """GitLab answers a repeated award with 404 "Award Emoji Name has already been taken"
    (lib/api/award_emoji.rb: `not_found!("Award Emoji #{message}")`): the award is there, done."""
    try:
        yield
    except gl_exc.GitlabError as exc:
        if not (exc.response_code == 404 and "has already been taken" in str(exc.error_message or "")):
            raise


class BotGitLab:
    """The bot's GitLab operations. Every call uses the bot token (MLTRACKER_GITLAB_TOKEN)."""

    def __init__(self, url: str, bot_token: str | None, **adapter_options):
        self._gitlab = GitLabAdapter(url, bot_token, **adapter_options)

    def client(self):
        return self._gitlab.client()

    def _mr(self, project_id: int, iid: int):
        return self.client().projects.get(project_id, lazy=True).mergerequests.get(iid, lazy=True)

    def bot_username(self) -> str:
        with gitlab_call("GET", "/user"):
            data = self.client().http_get("/user")
        return str(data.get("username") or "")

    def merge_request_notes(self, project_id: int, iid: int) -> Iterator[Note]:
        """Every note of the merge request, across all pages."""
        with gitlab_call("GET", f"/projects/{project_id}/merge_requests/{iid}/notes"):
            for note in self._mr(project_id, iid).notes.list(iterator=True, per_page=100, sort="asc"):
                attrs = note.attributes
                yield Note(
                    id=int(attrs["id"]),
                    body=str(attrs.get("body") or ""),
                    author_username=str((attrs.get("author") or {}).get("username") or ""),
                    system=bool(attrs.get("system")),
                )

    def create_note(self, project_id: int, iid: int, body: str) -> int:
        with gitlab_call("POST", f"/projects/{project_id}/merge_requests/{iid}/notes"):
            note = self._mr(project_id, iid).notes.create({"body": body})
        return int(note.get_id())

    def update_note(self, project_id: int, iid: int, note_id: int, body: str) -> None:
        path = f"/projects/{project_id}/merge_requests/{iid}/notes/{note_id}"
        with gitlab_call("PUT", path):
            self.client().http_put(path, post_data={"body": body})

    def react(self, project_id: int, iid: int, note_id: int, emoji: str) -> None:
        """Award an emoji to a note; awarding it again (a retried job) is no error."""
        path = f"/projects/{project_id}/merge_requests/{iid}/notes/{note_id}/award_emoji"
        with gitlab_call("POST", path, {"name": emoji}), _awarded_already_ok():
            self.client().http_post(path, post_data={"name": emoji})

    # ---- comment commands: read the note back, reply in its thread

    def command_note(self, project_id: int, iid: int, note_id: int) -> CommandNote:
        """GET /projects/:id/merge_requests/:iid/notes/:note_id — GitLab answers 404
        (GitLabNotVisible) unless the note belongs to that merge request of that project."""
        path = f"/projects/{project_id}/merge_requests/{iid}/notes/{note_id}"
        with gitlab_call("GET", path, not_visible=True):
            data = self.client().http_get(path)
        author = data.get("author") or {}
        on_merge_request = data.get("noteable_type") == "MergeRequest" and data.get("noteable_iid") is not None
        return CommandNote(
            id=int(data["id"]),
            project_id=int(data.get("project_id") or project_id),
            merge_request_iid=int(data["noteable_iid"]) if on_merge_request else -1,
            body=str(data.get("body") or ""),
            author_id=int(author.get("id") or 0),
            author_username=str(author.get("username") or ""),
            system=bool(data.get("system")),
            internal=bool(data.get("internal") or data.get("confidential")),
        )

    def discussion_notes(self, project_id: int, iid: int, discussion_id: str) -> list[Note]:
        """The notes of one thread (GET /projects/:id/merge_requests/:iid/discussions/:discussion_id)."""
        path = f"/projects/{project_id}/merge_requests/{iid}/discussions/{quote(discussion_id, safe='')}"
        with gitlab_call("GET", path, not_visible=True):
            data = self.client().http_get(path)
        return [
            Note(id=int(n["id"]), body=str(n.get("body") or ""),
                 author_username=str((n.get("author") or {}).get("username") or ""), system=bool(n.get("system")))
            for n in (data.get("notes") or [])
        ]

    def reply(self, project_id: int, iid: int, discussion_id: str | None, body: str,
              internal: bool = False) -> int:
        """Reply in the comment's thread (GitLab makes a reply as internal as its thread), else as a
        new note, internal when asked. Returns the new note's id."""
        path = f"/projects/{project_id}/merge_requests/{iid}/notes"
        if discussion_id:
            path = f"/projects/{project_id}/merge_requests/{iid}/discussions/{quote(discussion_id, safe='')}/notes"
        with gitlab_call("POST", path, {"internal": internal}):
            note = self.client().http_post(path, post_data={"body": body, "internal": internal})
        return int(note["id"])

    def project_web_url(self, project_id: int) -> str | None:
        """The project's page as GitLab reports it (GET /projects/:id → web_url)."""
        with gitlab_call("GET", f"/projects/{project_id}"):
            data = self.client().http_get(f"/projects/{project_id}")
        url = data.get("web_url") if isinstance(data, dict) else None
        return str(url) if url else None

    def upload(self, project_id: int, filename: str, content: bytes) -> str:
        """POST /projects/:id/uploads; returns the relative `/uploads/…` URL."""
        with gitlab_call("POST", f"/projects/{project_id}/uploads", {"file": filename}):
            result = self.client().projects.get(project_id, lazy=True).upload(filename, filedata=content)
        return str(result["url"])

    def set_commit_status(self, project_id: int, sha: str, state: str, description: str,
                          target_url: str | None, ref: str | None = None, pipeline_id: int | None = None) -> None:
        """POST /projects/:id/statuses/:sha. With `pipeline_id` (and the pipeline's own ref) the status
        joins that pipeline; without, GitLab picks the newest pipeline of the sha and ref, or makes a
        new `external` one."""
        data = {"state": state, "name": "mltracker", "description": description[:COMMIT_STATUS_DESCRIPTION_MAX]}
        if target_url and len(target_url) <= COMMIT_STATUS_TARGET_URL_MAX:
            data["target_url"] = target_url
        if ref:
            data["ref"] = ref
        if pipeline_id is not None:
            data["pipeline_id"] = pipeline_id
        path = f"/projects/{project_id}/statuses/{sha}"
        with gitlab_call("POST", path, data):
            self.client().http_post(path, post_data=data)

    def pipeline(self, project_id: int, pipeline_id: int) -> Pipeline:
        """GET /projects/:id/pipelines/:pipeline_id."""
        path = f"/projects/{project_id}/pipelines/{pipeline_id}"
        with gitlab_call("GET", path):
            data = self.client().http_get(path)
        return Pipeline(id=int(data["id"]), project_id=int(data.get("project_id") or project_id),
                        sha=str(data.get("sha") or ""), ref=str(data.get("ref") or ""),
                        source=str(data.get("source") or ""))

    def open_merge_request_for(self, project_id: int, sha: str, ref: str):
        """The open merge request containing the commit whose source is branch `ref` of this very
        project (a fork's merge request included); None for any other branch, e.g. its target."""
        with gitlab_call("GET", f"/projects/{project_id}/repository/commits/{sha}/merge_requests"):
            candidates = self._gitlab.merge_requests_for_commit(project_id, sha)
        for mr in candidates:
            source_project = mr.raw.get("source_project_id")
            if mr.state == "opened" and mr.source_branch == ref and str(source_project) == str(project_id):
                return mr
        return None

    def get_merge_request(self, project_id: int, iid: int):
        with gitlab_call("GET", f"/projects/{project_id}/merge_requests/{iid}"):
            return self._gitlab.merge_request(project_id, iid)

    def access_level(self, project_id: int, user_id: int) -> int:
        with gitlab_call("GET", f"/projects/{project_id}/members/all/{user_id}"):
            return self._gitlab.member_access_level(project_id, user_id) or 0
