"""Fixtures for the merge-request bot: a fake GitLab that records what the bot writes, and
mltracker in GitLab mode with the bot's token and webhook secret."""
from __future__ import annotations

import copy
import itertools
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.conftest import run_mltracker  # noqa: E402
from tests.fakes.gitlab_bot_fake import BotFakeGitLab  # noqa: E402
from tests.fakes.gitlab_webhooks import pipeline_hook, webhook_payload  # noqa: E402
BOT_USER_ID, BOT_TOKEN, BOT_NAME = 9100, "glpat-bot-secret-token", "mltracker-bot"
SECRET = "webhook-secret-for-tests"
DEVELOPER, REPORTER = 30, 20
_ids = itertools.count(20_000)


def new_id() -> int:
    return next(_ids)


@pytest.fixture(scope="session")
def bot_gitlab():
    with BotFakeGitLab() as fake:
        yield fake


@pytest.fixture
def fake(bot_gitlab):
    bot_gitlab.reset()
    bot_gitlab.add_user(id=BOT_USER_ID, username=BOT_NAME, admin=True)
    bot_gitlab.add_token(token=BOT_TOKEN, user_id=BOT_USER_ID)
    return bot_gitlab


def bot_env(fake, **extra) -> dict:
    env = {
        "MLTRACKER_GITLAB_URL": fake.url, "MLTRACKER_GITLAB_TOKEN": BOT_TOKEN,
        "MLTRACKER_WEBHOOK_SECRET": SECRET, "MLTRACKER_AUTH_CACHE_TTL": "1", "MLTRACKER_GITLAB_TIMEOUT": "5",
        "MLTRACKER_PUBLIC_URL": "http://mltracker.test",
    }
    env.update(extra)
    return env


@pytest.fixture
def bot_server(fake, tmp_path):
    with run_mltracker(tmp_path, f"sqlite:///{tmp_path}/mltracker.db", str(tmp_path / "artifacts"),
                       extra_env=bot_env(fake), workers=1) as server:
        yield server


class World:
    """A GitLab project with a developer, a reporter, a merge request, and candidates logged by CI jobs."""

    def __init__(self, fake, server_url: str):
        self.fake, self.server_url = fake, server_url
        self.project_id = new_id()
        self.dev = self._user("dev")
        self.reporter = self._user("reporter")
        fake.add_project(id=self.project_id, visibility="private",
                         members={self.dev[0]: DEVELOPER, self.reporter[0]: REPORTER})

    def _user(self, name):
        uid = new_id()
        self.fake.add_user(id=uid, username=f"{name}{uid}")
        self.fake.add_token(token=f"glpat-{name}-{uid}", user_id=uid)
        return uid, f"{name}{uid}", f"glpat-{name}-{uid}"

    def merge_request(self, source_branch: str, shas: list[str], target_branch: str = "main") -> int:
        iid = new_id() % 1000 + 1
        self.fake.add_merge_request(project_id=self.project_id, iid=iid, source_branch=source_branch,
                                    target_branch=target_branch, shas=shas)
        return iid

    def pipeline(self, ref: str, sha: str, runs: dict[str, dict[str, float]], experiment: str = "churn",
                 status: str = "success") -> int:
        """One pipeline whose job logs one candidate per entry (name -> metrics) with its job token."""
        from mlflow import MlflowClient

        pipeline_id = new_id()
        job_id = new_id()
        token = f"glcbt-job-{job_id}"
        self.fake.add_job(id=job_id, project_id=self.project_id, pipeline_id=pipeline_id, user_id=self.dev[0],
                          ref=ref, sha=sha, status="running")
        self.fake.add_job_token(token=token, job_id=job_id)
        import os

        old = os.environ.get("MLFLOW_TRACKING_TOKEN")
        os.environ["MLFLOW_TRACKING_TOKEN"] = token
        try:
            client = MlflowClient(tracking_uri=f"{self.server_url}/projects/{self.project_id}")
            found = client.get_experiment_by_name(experiment)
            experiment_id = found.experiment_id if found else client.create_experiment(experiment)
            for name, metrics in runs.items():
                run = client.create_run(experiment_id, run_name=name)
                for step, (key, value) in enumerate(metrics.items()):
                    for s in range(3):
                        client.log_metric(run.info.run_id, key, value * (0.9 + 0.05 * s), step=s)
                    client.log_metric(run.info.run_id, key, value, step=3)
                client.log_param(run.info.run_id, "lr", name.split("-")[-1])
                client.set_terminated(run.info.run_id)
        finally:
            if old is None:
                os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
            else:
                os.environ["MLFLOW_TRACKING_TOKEN"] = old
        self.fake.set_job_status(job_id=job_id, status="success")
        return pipeline_id

    def pipeline_hook(self, pipeline_id: int, ref: str, sha: str, mr_iid: int | None, status="success") -> dict:
        return pipeline_hook(self.project_id, pipeline_id, ref, sha, mr_iid, status)

    def note_hook(self, mr_iid: int, text: str, author: tuple, state: str = "opened", note_id=None,
                  store: bool = True, internal: bool = False) -> dict:
        """A Note Hook for a new comment; with `store`, GitLab (the fake) holds that comment too, as it
        would for a real delivery — the bot reads it back before acting."""
        body = copy.deepcopy(webhook_payload("note_hook_merge_request"))
        note_id = note_id or new_id()
        discussion_id = uuid.uuid4().hex
        body["project_id"] = self.project_id
        body["project"]["id"] = self.project_id
        body["user"].update(id=author[0], username=author[1])
        body["object_attributes"].update(id=note_id, note=text, author_id=author[0],
                                         project_id=self.project_id, discussion_id=discussion_id)
        body["merge_request"].update(iid=mr_iid, state=state)
        if store:
            self.fake.add_note(project_id=self.project_id, iid=mr_iid, body=text, username=author[1],
                               note_id=note_id, discussion_id=discussion_id, internal=internal)
        return body

    def deliver(self, event: str, body: dict, secret: str = SECRET, key: str | None = None) -> requests.Response:
        headers = {"X-Gitlab-Event": event, "X-Gitlab-Token": secret,
                   "Idempotency-Key": key or str(uuid.uuid4()), "X-Gitlab-Event-UUID": str(uuid.uuid4())}
        return requests.post(f"{self.server_url}/webhooks/gitlab", json=body, headers=headers, timeout=10)

    def notes(self, mr_iid: int) -> list[dict]:
        return self.fake.bot_state()["notes"].get(f"{self.project_id}/{mr_iid}", [])

    def bot_notes(self, mr_iid: int) -> list[dict]:
        return [n for n in self.notes(mr_iid) if n["author"]["username"] == BOT_NAME]


def project_jobs(world, kind: str | None = None) -> list[dict]:
    """The bot's job queue for the world's project, as the server recorded it."""
    from sqlalchemy import select

    from mltracker.service.db.engine import Database
    from mltracker.service.db.jobs_schema import jobs

    db = Database(world.server.backend_store_uri)
    try:
        with db.read() as conn:
            query = select(jobs).where(jobs.c.project_id == world.project_id)
            if kind:
                query = query.where(jobs.c.kind == kind)
            return [dict(r._mapping) for r in conn.execute(query)]
    finally:
        db.dispose()


def wait_for_settled_jobs(world, timeout: float = 60.0) -> list[dict]:
    """Every job of the project finished (done or failed): whatever the bot was going to do, it did."""
    settled: list[dict] = []

    def all_finished():
        settled[:] = project_jobs(world)
        return all(j["status"] in ("done", "failed") for j in settled)

    wait_until(all_finished, timeout=timeout)
    return settled


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


@pytest.fixture
def world(fake, bot_server):
    created = World(fake, bot_server.url)
    created.server = bot_server
    return created
