"""`mltracker doctor` (and a warning at `serve` start) says which projects the bot token sees and
whether it may post notes, uploads, statuses and hooks there."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.fakes.gitlab_support import BOT_TOKEN, DEVELOPER, MAINTAINER, REPORTER, gitlab_env
from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import upgrade
from mltracker.service.tracking import experiments as exps
from tests.conftest import run_mltracker


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    db = Database(uri)
    upgrade(db)
    yield uri, db
    db.dispose()


def _track(db, *project_ids):
    with db.write() as conn:
        for project_id in project_ids:
            exps.create_experiment(conn, project_id, f"exp-{project_id}")


def _doctor(fake, uri: str, token: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRACKER_")}
    env.update(gitlab_env(fake, bot_token=token), MLTRACKER_BACKEND_STORE_URI=uri)
    return subprocess.run([sys.executable, "-m", "mltracker.service.cli", "doctor"], env=env,
                          capture_output=True, text=True, timeout=120)


def test_doctor_reports_what_a_project_scoped_bot_token_can_do(fake_gitlab, scenario, store):
    uri, db = store
    bot = scenario.user("projectbot")
    full = scenario.project(members={bot: MAINTAINER}, name="full")
    dev = scenario.project(members={bot: DEVELOPER}, name="dev")
    reporter = scenario.project(members={bot: REPORTER}, name="rep")
    hidden = scenario.project(name="hidden")
    _track(db, full, dev, reporter, hidden)
    result = _doctor(fake_gitlab, uri, bot.token)
    out = result.stdout
    assert result.returncode == 1, result.stderr
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    assert f"user @{bot.username}" in out and "scopes: api" in out
    assert "may post notes, uploads, statuses, hooks" in lines[f"project {full} (group/full)"]
    assert "may not post hooks (needs Maintainer)" in lines[f"project {dev} (group/dev)"]
    assert "may not post statuses (needs Developer), hooks" in lines[f"project {reporter} (group/rep)"]
    assert "NOT VISIBLE" in lines[f"project {hidden}"]
    assert BOT_TOKEN not in out and bot.token not in out


def test_doctor_says_a_read_only_token_cannot_post(fake_gitlab, scenario, store):
    uri, db = store
    bot = scenario.user("readonlybot")
    fake_gitlab.add_token(token=bot.token + "-ro", user_id=bot.id, scopes=["read_api"])
    project = scenario.project(members={bot: MAINTAINER})
    _track(db, project)
    result = _doctor(fake_gitlab, uri, bot.token + "-ro")
    assert result.returncode == 1
    assert "scopes: read_api — cannot post anything (needs api)" in result.stdout


def test_doctor_with_an_administrator_token_and_a_refused_one(fake_gitlab, scenario, store):
    uri, db = store
    project = scenario.project()
    _track(db, project)
    ok = _doctor(fake_gitlab, uri, BOT_TOKEN)
    assert ok.returncode == 0, ok.stdout
    assert "administrator" in ok.stdout and "0 problem" not in ok.stdout
    refused = _doctor(fake_gitlab, uri, "glpat-revoked-or-unknown")
    assert refused.returncode == 1 and "GitLab refuses MLTRACKER_GITLAB_TOKEN" in refused.stdout


def test_serve_logs_a_warning_for_projects_the_bot_cannot_see(fake_gitlab, scenario, store, tmp_path):
    uri, db = store
    bot = scenario.user("narrowbot")
    hidden = scenario.project(name="unseen")
    _track(db, hidden)
    env = {**gitlab_env(fake_gitlab, bot_token=bot.token)}
    with run_mltracker(tmp_path, uri, str(tmp_path / "artifacts"), extra_env=env, workers=1) as server:
        deadline = time.monotonic() + 30
        while "bot token:" not in server.log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = server.log_path.read_text()
    assert f"bot token: project {hidden}: NOT VISIBLE to the bot token" in log
    assert bot.token not in log
