"""Fixtures of the GitLab-mode tests (tests/conftest.py offers them to every folder, so one stand-in
and one server serve the whole run): the GitLab stand-in over real HTTP, a clean scenario in it,
and `mltracker serve` in GitLab mode on SQLite with the bot token and a 1 s auth cache."""
from __future__ import annotations

import pytest

from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.gitlab_support import BOT_TOKEN, BOT_USER_ID, Scenario, gitlab_env


@pytest.fixture(scope="session")
def fake_gitlab():
    with FakeGitLab() as fake:
        fake.add_user(id=BOT_USER_ID, username="mltracker-bot", admin=True)
        fake.add_token(token=BOT_TOKEN, user_id=BOT_USER_ID)
        yield fake


@pytest.fixture
def scenario(fake_gitlab) -> Scenario:
    fake_gitlab.set_mode(mode="up")
    fake_gitlab.set_finished_job_tokens(behaviour="reject")
    return Scenario(fake_gitlab)


@pytest.fixture(scope="session")
def gitlab_server(fake_gitlab, tmp_path_factory):
    from tests.conftest import run_mltracker  # tests/conftest.py imports this module

    tmp = tmp_path_factory.mktemp("gitlab-mode")
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts"),
                       extra_env=gitlab_env(fake_gitlab)) as server:
        yield server


@pytest.fixture
def client_as(gitlab_server, monkeypatch):
    """The stock MLflow client of a project, with MLFLOW_TRACKING_TOKEN set as a user would."""
    from mlflow import MlflowClient

    def make(token: str, project_id: int, server_url: str | None = None) -> MlflowClient:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        return MlflowClient(tracking_uri=f"{server_url or gitlab_server.url}/projects/{project_id}")

    return make
