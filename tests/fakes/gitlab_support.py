"""Helpers of the GitLab-mode tests: users, tokens and jobs in the GitLab stand-in, and the
environment that puts mltracker in GitLab mode. Fixtures built on them: gitlab_fixtures.py."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import requests
from sqlalchemy import create_engine, select

from tests.fakes.gitlab_server import FakeGitLab

GUEST, REPORTER, DEVELOPER, MAINTAINER = 10, 20, 30, 40
BOT_USER_ID = 9000
BOT_TOKEN = "glpat-mltracker-bot-token"
AUTH_CACHE_TTL_S = 1.0

_ids = itertools.count(1000)


def next_id() -> int:
    return next(_ids)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    token: str


@dataclass
class Job:
    id: int
    project_id: int
    pipeline_id: int
    token: str
    ref: str
    sha: str
    user: User


class Scenario:
    """Builds GitLab state at the fake with fresh ids, so tests never share tokens or projects."""

    def __init__(self, fake: FakeGitLab):
        self.fake = fake

    def user(self, name: str = "user", token_prefix: str = "glpat-") -> User:
        uid = next_id()
        user = User(uid, f"{name}{uid}", f"{token_prefix}{name}-{uid}-secret")
        self.fake.add_user(id=uid, username=user.username)
        self.fake.add_token(token=user.token, user_id=uid)
        return user

    def project(self, visibility: str = "private", members: dict[User, int] | None = None,
                name: str | None = None) -> int:
        pid = next_id()
        self.fake.add_project(id=pid, visibility=visibility, name=name,
                              members={u.id: level for u, level in (members or {}).items()})
        return pid

    def add_member(self, project_id: int, user: User, level: int | None) -> None:
        self.fake.set_member(project_id=project_id, user_id=user.id, access_level=level)

    def job(self, project_id: int, user: User, pipeline_id: int | None = None, ref: str = "main",
            sha: str | None = None, status: str = "running", token_prefix: str = "glcbt-") -> Job:
        jid = next_id()
        pipeline_id = pipeline_id if pipeline_id is not None else next_id()
        sha = sha or f"{jid:040x}"
        token = f"{token_prefix}job-{jid}-secret"
        self.fake.add_job(id=jid, project_id=project_id, pipeline_id=pipeline_id, user_id=user.id, ref=ref,
                          sha=sha, status=status)
        self.fake.add_job_token(token=token, job_id=jid)
        return Job(jid, project_id, pipeline_id, token, ref, sha, user)


def gitlab_env(fake: FakeGitLab, ttl: float = AUTH_CACHE_TTL_S, bot_token: str | None = BOT_TOKEN) -> dict:
    env = {"MLTRACKER_GITLAB_URL": fake.url, "MLTRACKER_AUTH_CACHE_TTL": str(ttl),
           "MLTRACKER_GITLAB_TIMEOUT": "5", "MLTRACKER_WEBHOOK_SECRET": "test-webhook-secret"}
    if bot_token:
        env["MLTRACKER_GITLAB_TOKEN"] = bot_token
    return env


def api(server_url: str, project_id: int, path: str) -> str:
    return f"{server_url}/projects/{project_id}/api/2.0/mlflow/{path}"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def create_experiment_raw(server_url: str, project_id: int, token: str, name: str) -> requests.Response:
    return requests.post(api(server_url, project_id, "experiments/create"), json={"name": name},
                         headers=bearer(token), timeout=30)


def link_row(server, run_id: str):
    """The candidate's ci_links row, read straight from the server's database."""
    from mltracker.service.db.schema import ci_links

    engine = create_engine(server.backend_store_uri)
    try:
        with engine.connect() as conn:
            return conn.execute(select(ci_links).where(ci_links.c.run_uuid == run_id)).first()
    finally:
        engine.dispose()
