"""Token → identity → role in the project → allow, or the MLflow error to answer.

Decisions (allows and 401/403/404 alike) are cached per (credential kind, token digest) and
project for at most the cache TTL; "GitLab unavailable" is never cached and never an allow, and
GitLab rate limiting us fails at once with GitLab's wait (503 + Retry-After), never waited out.

A CI job's role is its user's role in the project, asked of GitLab with the bot's token. When
that cannot be asked (no bot token, or the bot cannot see the project) the job gets
`unverified_job_level` — Reporter unless the operator chose otherwise, never write by default.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from mltracker.service.auth.cache import DecisionCache
from mltracker.service.auth.credentials import JOB, USER, Credential
from mltracker.service.auth.policy import READ, READABLE_VISIBILITIES, REPORTER, WRITE, role_name
from mltracker.service.errors import MlflowError
from mltracker.service.gitlab import (
    GitLabAdapter,
    GitLabForbidden,
    GitLabJob,
    GitLabNotVisible,
    GitLabRateLimited,
    GitLabTokenRejected,
    GitLabUnavailable,
    GitLabUser,
)

log = logging.getLogger("mltracker.auth")


def unauthenticated(message: str) -> MlflowError:
    return MlflowError(message, "UNAUTHENTICATED")


def permission_denied(message: str) -> MlflowError:
    return MlflowError(message, "PERMISSION_DENIED")


class GitLabBusy(MlflowError):
    """503 TEMPORARILY_UNAVAILABLE, with the seconds to send as `Retry-After` when GitLab said."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message, "TEMPORARILY_UNAVAILABLE")
        self.retry_after = retry_after


def gitlab_unavailable(exc: Exception | None = None) -> MlflowError:
    if isinstance(exc, GitLabRateLimited):
        return GitLabBusy("GitLab is rate limiting this server, so the request cannot be authorised now; "
                          f"retry in {exc.retry_after} s.", exc.retry_after)
    return GitLabBusy("GitLab is unavailable, so the request cannot be authorised; retry later.")


@dataclass(frozen=True)
class Identity:
    kind: str  # USER or JOB
    user: GitLabUser | None
    job: GitLabJob | None = None

    @property
    def username(self) -> str:
        return self.user.username if self.user else ""

    def describe(self) -> str:
        if self.kind == JOB and self.job is not None:
            return f"CI job {self.job.id}" + (f" of @{self.username}" if self.user else "")
        return f"GitLab user @{self.username}"


@dataclass(frozen=True)
class ProjectAccess:
    level: int  # GitLab access level; 0 when no member
    visibility: str | None  # known when the level alone does not allow reading
    hidden: bool = False
    unverified: bool = False  # a CI job whose user's role GitLab could not be asked for

    def allows(self, needed: int) -> bool:
        if self.level >= needed:
            return True
        return needed <= READ and self.visibility in READABLE_VISIBILITIES


@dataclass(frozen=True)
class Grant:
    """What a request was allowed as. Kept on flask.g for linking and the gate."""
    identity: Identity
    project_id: int
    access: ProjectAccess
    credential: Credential

    @property
    def can_write(self) -> bool:
        return self.access.allows(WRITE)


class Authorizer:
    def __init__(self, gitlab: GitLabAdapter, cache: DecisionCache, unverified_job_level: int = REPORTER):
        self.gitlab = gitlab
        self.cache = cache
        self.unverified_job_level = unverified_job_level

    # ------------------------------------------------------------ public

    def authorize(self, credential: Credential | None, project_id: int, needed: int, *,
                  cached_only: bool = False) -> Grant:
        """cached_only: decide from cached decisions alone, never asking GitLab (raises
        cache.NotCached when one is missing)."""
        if credential is None:
            raise unauthenticated(
                "Authentication required: send a GitLab token (personal, project, group, OAuth or CI job "
                "token) as 'Authorization: Bearer <token>' (MLFLOW_TRACKING_TOKEN)."
            )
        identity = self.identify(credential, cached_only)
        if identity.kind == JOB:
            job = identity.job
            assert job is not None
            if not job.running:
                raise unauthenticated(f"The CI job token belongs to job {job.id}, which is no longer running.")
            if job.project_id != project_id:
                raise permission_denied(
                    f"The CI job token belongs to a job of project {job.project_id}, not of project {project_id}."
                )
        access = self.project_access(credential, identity, project_id, cached_only)
        if access.hidden:
            raise MlflowError(f"Project {project_id} not found.", "RESOURCE_DOES_NOT_EXIST")
        if not access.allows(needed):
            action = "write to" if needed >= WRITE else "read"
            needs = role_name(needed)
            if access.unverified:
                why, fix = (("mltracker's GitLab bot token cannot see the project",
                             "give the bot token's user Reporter access to the project")
                            if self.gitlab.has_bot_token else
                            ("mltracker has no GitLab bot token", "set MLTRACKER_GITLAB_TOKEN"))
                raise permission_denied(
                    f"The role of {identity.describe()} in project {project_id} cannot be checked: {why}. "
                    f"To {action} it needs {needs} or higher; {fix}."
                )
            raise permission_denied(
                f"{identity.describe()} has {role_name(access.level)} access to project {project_id}; "
                f"to {action} it needs {needs} or higher."
            )
        return Grant(identity=identity, project_id=project_id, access=access, credential=credential)

    def identify(self, credential: Credential, cached_only: bool = False) -> Identity:
        key = ("identity", *credential.cache_key)
        if cached_only:
            return self.cache.cached(key)
        return self.cache.get_or_compute(key, lambda: self._identify(credential))

    def project_access(self, credential: Credential, identity: Identity, project_id: int,
                       cached_only: bool = False) -> ProjectAccess:
        key = ("access", *credential.cache_key, project_id)
        if cached_only:
            return self.cache.cached(key)
        return self.cache.get_or_compute(key, lambda: self._project_access(credential, identity, project_id))

    # ------------------------------------------------------------ GitLab calls

    def _identify(self, credential: Credential) -> Identity:
        order = {JOB: (JOB,), USER: (USER,)}.get(credential.hint, (USER, JOB))
        scope_problem = False
        try:
            for kind in order:
                try:
                    if kind == USER:
                        return Identity(kind=USER, user=self.gitlab.current_user(credential.token))
                    job = self.gitlab.job_of_token(credential.token)
                    return Identity(kind=JOB, user=job.user, job=job)
                except GitLabTokenRejected:
                    continue
                except (GitLabForbidden, GitLabNotVisible):
                    scope_problem = True
                    continue
        except GitLabUnavailable as exc:
            raise gitlab_unavailable(exc) from None
        if scope_problem:
            raise permission_denied("GitLab accepted the token but it lacks the scope to read its user "
                                    "(needs read_api or api).")
        raise unauthenticated("The token is not a valid GitLab token (unknown, revoked or expired).")

    def _project_access(self, credential: Credential, identity: Identity, project_id: int) -> ProjectAccess:
        try:
            if identity.kind == JOB:
                return self._job_access(identity, project_id)
            return self._user_access(credential, identity, project_id)
        except GitLabUnavailable as exc:
            raise gitlab_unavailable(exc) from None
        except GitLabTokenRejected:
            raise unauthenticated("GitLab no longer accepts the token.") from None
        except GitLabForbidden:
            raise permission_denied(
                f"GitLab refused to tell the role of {identity.describe()} in project {project_id} "
                "(the token needs the read_api or api scope)."
            ) from None

    def _user_access(self, credential: Credential, identity: Identity, project_id: int) -> ProjectAccess:
        assert identity.user is not None
        level = self.gitlab.member_access_level(project_id, identity.user.id, credential.token)
        if level is not None and level >= REPORTER:
            return ProjectAccess(level=level, visibility=None)
        try:
            project = self.gitlab.project(project_id, credential.token)
        except GitLabNotVisible:
            return ProjectAccess(level=0, visibility=None, hidden=True)
        return ProjectAccess(level=level or 0, visibility=project.visibility)

    def _job_access(self, identity: Identity, project_id: int) -> ProjectAccess:
        if identity.user is None or not self.gitlab.has_bot_token:
            return ProjectAccess(level=self.unverified_job_level, visibility=None, unverified=True)
        try:
            level = self.gitlab.member_access_level(project_id, identity.user.id)
            if level is not None and level >= REPORTER:
                return ProjectAccess(level=level, visibility=None)
            project = self.gitlab.project(project_id)
        except (GitLabNotVisible, GitLabForbidden):
            log.warning("the bot token cannot see project %s, so the role of CI jobs' users there cannot be "
                        "checked; they get %s access", project_id, role_name(self.unverified_job_level))
            return ProjectAccess(level=self.unverified_job_level, visibility=None, unverified=True)
        return ProjectAccess(level=level or 0, visibility=project.visibility)
