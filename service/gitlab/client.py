"""A small port over python-gitlab: who is this token, which job, which role, which merge request.

Every GitLab answer is translated into one of these outcomes the callers decide on:
a value, `GitLabTokenRejected` (401), `GitLabNotVisible` (404: GitLab hides it from this token),
`GitLabForbidden` (403) or `GitLabUnavailable` (unreachable, timeout, 5xx, garbage), of which
`GitLabRateLimited` (429) is the kind that says when to come back and `GitLabRefusedRequest` (any
other 4xx) the kind that coming back cannot help. "Unavailable" must never turn into an allow. Tokens are passed per call and never logged.

Nothing here waits out a rate limit: python-gitlab's own handling (which sleeps through
`Retry-After` inside the call, up to 10 times) is off; a 429 is raised at once with GitLab's wait,
and the caller decides — the API answers 503 with `Retry-After`, the bot reschedules its job.
Connection errors and timeouts are retried at most `max_retries` times (none by default), with
python-gitlab's short backoff (0.1 s, 0.2 s, …).
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit

import gitlab
import requests
from gitlab import exceptions as gl_exc
from gitlab._backends import RequestsBackend

log = logging.getLogger("mltracker.gitlab")

DEFAULT_TIMEOUT_S = 10.0
# Retries python-gitlab may make after a connection error or timeout (without waiting out 429s).
DEFAULT_MAX_RETRIES = 0


class GitLabError(Exception):
    """Base of the adapter's outcomes other than a value."""


class GitLabUnavailable(GitLabError):
    """GitLab could not answer (network error, timeout, 5xx, rate limit, unparseable answer)."""


class GitLabRefusedRequest(GitLabUnavailable):
    """GitLab refused the request itself (400, 405, 422, …: any 4xx but 401/403/404 and the
    temporary 408/409/429). A reader treats it as unavailable (never an allow); a writer knows that
    sending it again cannot help."""

    def __init__(self, message: str, status: int, gitlab_message: str):
        super().__init__(message)
        self.status, self.gitlab_message = status, gitlab_message


class GitLabRateLimited(GitLabUnavailable):
    """GitLab answered 429 Too Many Requests; `retry_after` is how many seconds it asked to wait."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


# 4xx answers that say "try again later": request timeout, a conflicting update in progress, 429.
TEMPORARY_4XX = frozenset({408, 409, 429})
DEFAULT_RETRY_AFTER_S = 60
MAX_RETRY_AFTER_S = 3600


def retry_after_seconds(headers) -> int:
    """GitLab's wait from a 429 answer: `Retry-After` (seconds), else `RateLimit-Reset` (a Unix
    time), else a minute (doc/administration/settings/user_and_ip_rate_limits.md, "Response headers")."""
    try:
        value = int(headers.get("Retry-After", ""))
    except ValueError:
        try:
            value = int(headers.get("RateLimit-Reset", "")) - int(time.time())
        except ValueError:
            value = DEFAULT_RETRY_AFTER_S
    return max(1, min(value, MAX_RETRY_AFTER_S))


class _NoWaitBackend(RequestsBackend):
    """python-gitlab's HTTP backend, raising GitLabRateLimited on a 429 before python-gitlab's
    retry loop (which would sleep) sees it, with the wait GitLab asked for."""

    def http_request(self, method, url, *args, **kwargs):
        result = super().http_request(method, url, *args, **kwargs)
        if result.status_code == 429:
            wait = retry_after_seconds(result.headers)
            log.warning("GitLab rate limit on %s %s: retry after %s s", method.upper(), _path_of(url), wait)
            raise GitLabRateLimited(f"{method.upper()} {_path_of(url)}: 429", wait)
        return result


def _path_of(url: str) -> str:
    return urlsplit(url).path


class GitLabTokenRejected(GitLabError):
    """GitLab answered 401: the token is unknown, revoked, expired or of the wrong kind."""


class GitLabNotVisible(GitLabError):
    """GitLab answered 404: the resource does not exist or is hidden from this token."""


class GitLabForbidden(GitLabError):
    """GitLab answered 403 (e.g. a token without the api/read_api scope)."""


@dataclass(frozen=True)
class GitLabUser:
    id: int
    username: str


@dataclass(frozen=True)
class GitLabJob:
    id: int
    project_id: int
    pipeline_id: int
    status: str
    ref: str
    sha: str
    user: GitLabUser | None
    name: str = ""

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True)
class GitLabProject:
    id: int
    visibility: str
    path_with_namespace: str = ""
    default_branch: str | None = None
    name: str = ""
    web_url: str = ""


@dataclass(frozen=True)
class MergeRequestRef:
    iid: int
    source_branch: str
    target_branch: str
    state: str
    raw: dict = field(default_factory=dict, compare=False, repr=False)


def _user(data: dict | None) -> GitLabUser | None:
    if not data or data.get("id") is None:
        return None
    return GitLabUser(id=int(data["id"]), username=str(data.get("username") or ""))


def job_from_payload(data: dict) -> GitLabJob:
    """A job from GET /job or GET /projects/:id/jobs/:job_id (same shape)."""
    pipeline = data.get("pipeline") or {}
    commit = data.get("commit") or {}
    return GitLabJob(
        id=int(data["id"]),
        project_id=int(pipeline["project_id"]),
        pipeline_id=int(pipeline["id"]),
        status=str(data.get("status") or ""),
        ref=str(data.get("ref") or pipeline.get("ref") or ""),
        sha=str(pipeline.get("sha") or commit.get("id") or ""),
        user=_user(data.get("user")),
        name=str(data.get("name") or ""),
    )


class GitLabAdapter:
    """python-gitlab clients for one GitLab instance, sharing one HTTP connection pool."""

    def __init__(self, url: str, bot_token: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                 max_retries: int = DEFAULT_MAX_RETRIES):
        self.url = url.rstrip("/")
        self._bot_token = bot_token
        self._timeout = timeout
        self._max_retries = max(0, int(max_retries))
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    @property
    def has_bot_token(self) -> bool:
        return bool(self._bot_token)

    @property
    def http(self) -> requests.Session:
        """The shared connection pool, for GitLab endpoints outside the REST API (OAuth)."""
        return self._session

    @property
    def timeout(self) -> float:
        return self._timeout

    # ------------------------------------------------------------ clients

    def client(self, *, user_token: str | None = None, job_token: str | None = None) -> gitlab.Gitlab:
        """A client for one caller. user_token goes as `Authorization: Bearer` (accepted by GitLab
        for personal, project, group and OAuth tokens alike); job_token as `JOB-TOKEN`; with neither,
        the bot's own token as `PRIVATE-TOKEN`."""
        kwargs: dict = {}
        if job_token is not None:
            kwargs["job_token"] = job_token
        elif user_token is not None:
            kwargs["oauth_token"] = user_token
        elif self._bot_token:
            kwargs["private_token"] = self._bot_token
        return _Gitlab(
            self.url, session=self._session, timeout=self._timeout, keep_base_url=True,
            retry_transient_errors=self._max_retries > 0, max_retries=self._max_retries,
            backend=_NoWaitBackend, **kwargs,
        )

    # ------------------------------------------------------------ identity

    def current_user(self, token: str) -> GitLabUser:
        """GET /user with the token as Bearer."""
        return self.current_user_profile(token)[0]

    def current_user_profile(self, token: str) -> tuple[GitLabUser, dict]:
        """GET /user: the user, and GitLab's whole answer (name, avatar_url, web_url …)."""
        with translated("GET /user"):
            data = self.client(user_token=token).http_get("/user")
        user = _user(data if isinstance(data, dict) else None)
        if user is None:
            raise GitLabUnavailable("GET /user answered without a user id")
        return user, data

    def job_of_token(self, token: str) -> GitLabJob:
        """GET /job with the JOB-TOKEN header: the job this CI job token belongs to."""
        with translated("GET /job"):
            data = self.client(job_token=token).http_get("/job")
        try:
            return job_from_payload(data)
        except (KeyError, TypeError, ValueError):
            raise GitLabUnavailable("GET /job answered without a job, pipeline or project id") from None

    # ------------------------------------------------------------ projects and roles

    def member_access_level(self, project_id: int, user_id: int, token: str | None = None) -> int | None:
        """The user's access level in the project, inherited and invited membership included
        (GET /projects/:id/members/all/:user_id). None when GitLab answers 404 — the user is no
        member, or the project is hidden from the token; `project()` tells the two apart."""
        with translated("GET /projects/:id/members/all/:user_id"):
            try:
                member = (
                    self.client(user_token=token).projects.get(project_id, lazy=True).members_all.get(user_id)
                )
            except gl_exc.GitlabGetError as exc:
                if exc.response_code == 404:
                    return None
                raise
        level = getattr(member, "access_level", None)
        return int(level) if level is not None else None

    def project(self, project_id: int, token: str | None = None) -> GitLabProject:
        """GET /projects/:id as the token (or the bot) sees it."""
        with translated("GET /projects/:id"):
            project = self.client(user_token=token).projects.get(project_id)
        attrs = project.attributes
        return GitLabProject(
            id=int(attrs["id"]),
            visibility=str(attrs.get("visibility") or "private"),
            path_with_namespace=str(attrs.get("path_with_namespace") or ""),
            default_branch=attrs.get("default_branch"),
            name=str(attrs.get("name") or ""),
            web_url=str(attrs.get("web_url") or ""),
        )

    def member_projects(self, token: str, min_access_level: int, max_pages: int = 10) -> list[dict]:
        """GET /projects?membership=true&min_access_level=…: the projects the token's user is a member
        of with at least that role (simple view), up to max_pages pages of 100."""
        found: list[dict] = []
        with translated("GET /projects"):
            items = self.client(user_token=token).projects.list(
                iterator=True, per_page=100, membership=True, min_access_level=min_access_level, simple=True,
            )
            for index, project in enumerate(items):
                if index >= max_pages * 100:
                    break
                found.append(project.attributes)
        return found

    def project_job(self, project_id: int, job_id: int, token: str | None = None) -> GitLabJob:
        """GET /projects/:id/jobs/:job_id — 404 (GitLabNotVisible) when the job is not the project's."""
        with translated("GET /projects/:id/jobs/:job_id"):
            job = self.client(user_token=token).projects.get(project_id, lazy=True).jobs.get(job_id)
        try:
            parsed = job_from_payload(job.attributes)
        except (KeyError, TypeError, ValueError):
            raise GitLabUnavailable("GET /projects/:id/jobs/:job_id answered without a pipeline") from None
        if parsed.project_id != project_id:
            raise GitLabNotVisible(f"job {job_id} is not a job of project {project_id}")
        return parsed

    def merge_requests_for_commit(self, project_id: int, sha: str, token: str | None = None) -> list[MergeRequestRef]:
        """GET /projects/:id/repository/commits/:sha/merge_requests."""
        with translated("GET /projects/:id/repository/commits/:sha/merge_requests"):
            items = (
                self.client(user_token=token).projects.get(project_id, lazy=True)
                .commits.get(sha, lazy=True).merge_requests(get_all=False, per_page=100)
            )
            items = list(items)
        return [_merge_request(item) for item in items if isinstance(item, dict) and "iid" in item]

    def merge_request(self, project_id: int, iid: int, token: str | None = None) -> MergeRequestRef:
        """GET /projects/:id/merge_requests/:iid."""
        with translated("GET /projects/:id/merge_requests/:iid"):
            mr = self.client(user_token=token).projects.get(project_id, lazy=True).mergerequests.get(iid)
        return _merge_request(mr.attributes)


class _Gitlab(gitlab.Gitlab):
    """python-gitlab with the adapter's retry policy on every call: 429 never waited out inside
    the call (obey_rate_limit=False), transient errors retried at most `max_retries` times."""

    def __init__(self, *args, max_retries: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._max_retries = max_retries

    def http_request(self, *args, **kwargs):
        kwargs["obey_rate_limit"] = False
        kwargs["max_retries"] = self._max_retries
        return super().http_request(*args, **kwargs)


def _merge_request(data: dict) -> MergeRequestRef:
    return MergeRequestRef(
        iid=int(data["iid"]),
        source_branch=str(data.get("source_branch") or ""),
        target_branch=str(data.get("target_branch") or ""),
        state=str(data.get("state") or ""),
        raw=data,
    )


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn python-gitlab's and requests' exceptions raised inside into the adapter's outcomes."""
    try:
        yield
    except gl_exc.GitlabAuthenticationError:
        raise GitLabTokenRejected(f"{what}: 401") from None
    except gl_exc.GitlabParsingError:
        raise GitLabUnavailable(f"{what}: unparseable answer") from None
    except gl_exc.GitlabError as exc:
        code = getattr(exc, "response_code", None)
        if code == 401:
            raise GitLabTokenRejected(f"{what}: 401") from None
        if code == 404:
            raise GitLabNotVisible(f"{what}: 404") from None
        if code == 403:
            raise GitLabForbidden(f"{what}: 403") from None
        log.warning("GitLab %s answered %s", what, code)
        if code is not None and 400 <= code < 500 and code not in TEMPORARY_4XX:
            raise GitLabRefusedRequest(f"{what}: HTTP {code}", code, _text(exc.error_message)) from None
        raise GitLabUnavailable(f"{what}: HTTP {code}") from None
    except (requests.RequestException, ValueError) as exc:
        log.warning("GitLab %s failed: %s", what, type(exc).__name__)
        raise GitLabUnavailable(f"{what}: {type(exc).__name__}") from None


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value or "")
