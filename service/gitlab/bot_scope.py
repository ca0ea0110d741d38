"""What the bot's token can do: which projects it sees, and whether it may post notes, commit
statuses, uploads and project hooks there. `mltracker doctor` prints it; `serve` logs a warning.

The roles each action needs are GitLab's (doc/user/permissions.md): comments and uploads from
Reporter, commit statuses from Developer, project hooks from Maintainer. Writing needs a token
with the `api` scope (`read_api` reads only). A project access token is a bot user that is a
member of its one project; a group access token, of its group's projects; a personal access
token acts as its user everywhere that user is a member (an administrator: everywhere).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mltracker.service.auth.policy import DEVELOPER, MAINTAINER, OWNER, REPORTER, role_name
from mltracker.service.gitlab.client import (
    GitLabAdapter,
    GitLabError,
    GitLabForbidden,
    GitLabNotVisible,
    GitLabTokenRejected,
    translated,
)

NEEDS = {"notes": REPORTER, "uploads": REPORTER, "statuses": DEVELOPER, "hooks": MAINTAINER}


@dataclass(frozen=True)
class ProjectScope:
    project_id: int
    level: int | None  # None: the bot cannot see the project
    path: str = ""

    @property
    def visible(self) -> bool:
        return self.level is not None

    def may(self, action: str) -> bool:
        return self.level is not None and self.level >= NEEDS[action]

    def describe(self) -> str:
        name = f"project {self.project_id}" + (f" ({self.path})" if self.path else "")
        if not self.visible:
            return f"{name}: NOT VISIBLE to the bot token — no reports, replies or statuses there"
        allowed = [a for a in NEEDS if self.may(a)]
        missing = [f"{a} (needs {role_name(NEEDS[a])})" for a in NEEDS if not self.may(a)]
        text = f"{name}: {role_name(self.level)}; may post {', '.join(allowed) or 'nothing'}"
        return text + (f"; may not post {', '.join(missing)}" if missing else "")


@dataclass
class BotTokenReport:
    problem: str | None = None  # the token does not work at all
    username: str = ""
    admin: bool = False
    scopes: list[str] | None = None  # None: GitLab did not say
    projects: list[ProjectScope] = field(default_factory=list)

    @property
    def can_write(self) -> bool:
        return self.scopes is None or "api" in self.scopes

    def warnings(self) -> list[str]:
        if self.problem:
            return [self.problem]
        found = []
        if not self.can_write:
            found.append(f"the bot token's scopes are {', '.join(self.scopes or []) or 'none'}: it needs `api` "
                         "to post notes, statuses and uploads")
        found += [p.describe() for p in self.projects if not (p.may("notes") and p.may("statuses"))]
        return found

    def lines(self) -> list[str]:
        if self.problem:
            return [f"bot token: {self.problem}"]
        who = f"bot token: user @{self.username}" + (" (administrator: sees every project)" if self.admin else "")
        scopes = "unknown" if self.scopes is None else (", ".join(self.scopes) or "none")
        return [who, f"scopes: {scopes}" + ("" if self.can_write else " — cannot post anything (needs api)")] + [
            p.describe() for p in self.projects]


def check_bot_token(adapter: GitLabAdapter, project_ids: list[int]) -> BotTokenReport:
    """Ask GitLab, as the bot, who it is, its token's scopes, and its role in each project."""
    if not adapter.has_bot_token:
        return BotTokenReport(problem="MLTRACKER_GITLAB_TOKEN is not set: the bot cannot post anything")
    client = adapter.client()
    try:
        with translated("GET /user (bot)"):
            me = client.http_get("/user")
    except GitLabTokenRejected:
        return BotTokenReport(problem="GitLab refuses MLTRACKER_GITLAB_TOKEN (unknown, revoked or expired)")
    except GitLabError as exc:
        return BotTokenReport(problem=f"GitLab could not be asked about the bot token ({exc})")
    report = BotTokenReport(username=str(me.get("username") or ""), admin=bool(me.get("is_admin")))
    try:
        with translated("GET /personal_access_tokens/self"):
            report.scopes = list(client.http_get("/personal_access_tokens/self").get("scopes") or [])
    except GitLabError:
        report.scopes = None  # an OAuth token, or an older GitLab: scopes unknown
    for project_id in project_ids:
        report.projects.append(_project_scope(adapter, int(me["id"]), project_id, report.admin))
    return report


def _project_scope(adapter: GitLabAdapter, bot_user_id: int, project_id: int, admin: bool) -> ProjectScope:
    try:
        project = adapter.project(project_id)
    except (GitLabNotVisible, GitLabForbidden):
        return ProjectScope(project_id, None)
    except GitLabError:
        return ProjectScope(project_id, None, "GitLab did not answer")
    if admin:
        return ProjectScope(project_id, OWNER, project.path_with_namespace)
    try:
        level = adapter.member_access_level(project_id, bot_user_id) or 0
    except GitLabError:
        level = 0
    return ProjectScope(project_id, level, project.path_with_namespace)
