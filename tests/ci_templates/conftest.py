"""Fixtures of the CI template tests: GitLab's tools, a GitLab stand-in over real HTTP and
`mltracker serve` in GitLab mode."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]
for path in (str(_REPO), str(_REPO / "tests" / "gitlab"), str(_HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from ci_tools import IN_CI, NodeTools, install_node_tools  # noqa: E402
from gitlab_support import BOT_TOKEN, BOT_USER_ID, Scenario, gitlab_env  # noqa: E402
from tests.conftest import run_mltracker  # noqa: E402
from tests.fakes.gitlab_server import FakeGitLab  # noqa: E402


@pytest.fixture(scope="session")
def node_tools() -> NodeTools:
    try:
        return install_node_tools()
    except RuntimeError as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI=true: the templates must run in gitlab-ci-local)")
        pytest.skip(str(exc))


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
    """mltracker serve in GitLab mode on SQLite, with the bot token."""
    tmp = tmp_path_factory.mktemp("ci-templates")
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts"),
                       extra_env=gitlab_env(fake_gitlab)) as server:
        yield server
