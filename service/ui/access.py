"""Who is looking, and what they may do in a project.

Local mode: no sign-in; everyone may read, write and promote the one implicit project.
GitLab mode: the signed-in user's GitLab access level decides, with the one policy of
service.auth.policy (the same thresholds as the API and the bot).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from mltracker.service.auth.policy import OWNER, READ, READ_METHODS, AccessPolicy, access_policy, role_name
from mltracker.service.context import services
from mltracker.service.ui.gitlab_access import gitlab_project_access, signed_in_session


@dataclass(frozen=True)
class Viewer:
    username: str | None  # None: not signed in (GitLab mode)
    name: str | None = None
    avatar_url: str | None = None
    web_url: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.username is not None


@dataclass(frozen=True)
class ViewerAccess:
    project_id: int
    path: str | None  # "group/project" in GitLab mode
    name: str | None
    level: int  # GitLab access level (0 for a non-member of a public or internal project)
    web_url: str | None = None
    policy: AccessPolicy = AccessPolicy()

    @property
    def can_read(self) -> bool:
        return True  # only built once reading was allowed

    @property
    def can_write(self) -> bool:
        return self.policy.may_write(self.level)

    @property
    def can_promote(self) -> bool:
        return self.policy.may_promote(self.level)

    @property
    def promote_role(self) -> str:
        return role_name(self.policy.promote_level)


LOCAL_VIEWER = Viewer("local", "Local user")


def local_mode() -> bool:
    return bool(current_app.config["MLTRACKER_LOCAL_MODE"])


def current_viewer() -> Viewer:
    if local_mode():
        return LOCAL_VIEWER
    found = signed_in_session()
    if found is None:
        return Viewer(None)
    user = found.user
    return Viewer(user.get("username"), user.get("name"), user.get("avatar_url"), user.get("web_url"))


def project_access(project_id: int) -> ViewerAccess:
    """The viewer's access to a project; raises AccessDenied/SignInRequired in GitLab mode.

    GitLab mode uses the API's own authorizer (service.auth) with the user's OAuth token, so the
    UI and the API always agree: reading needs the policy's read level, a form post at least the
    least level any change needs; each action then checks its own (can_write, can_promote)."""
    policy = access_policy(services().settings)
    if local_mode():
        return ViewerAccess(project_id, None, "Local project", OWNER, policy=policy)
    needed = READ if request.method in READ_METHODS else policy.least_changing_level
    level, path = gitlab_project_access(project_id, needed)
    base = (services().settings.gitlab_url or "").rstrip("/")
    return ViewerAccess(project_id, path, path or f"Project {project_id}", level,
                        f"{base}/{path}" if path else None, policy=policy)
