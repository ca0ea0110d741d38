"""Fixtures for the GitLab-mode tests: a fake GitLab over real HTTP, and mltracker in GitLab mode."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ has no __init__.py; make `tests.fakes` and `tests.conftest` importable under unambiguous names.
_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gitlab_support import BOT_TOKEN, BOT_USER_ID, Scenario, gitlab_env  # noqa: E402
from tests.conftest import run_mltracker  # noqa: E402
from tests.fakes.gitlab_server import FakeGitLab  # noqa: E402


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
    """mltracker serve in GitLab mode on SQLite, with a 1 s auth cache and the bot token."""
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
