"""One permission policy: MLTRACKER_PROMOTE_MIN_ACCESS_LEVEL decides who may promote in the web UI
and by bot comment alike."""
from __future__ import annotations

import pytest

from mltracker.bot.context import BotContext
from mltracker.service.settings import settings_from_env
from tests.conftest import run_mltracker
from tests.ui.oauth_fake import CLIENT_ID, CLIENT_SECRET, OAuthFakeGitLab
from tests.ui.seed import seed_demo
from tests.ui.test_ui_oauth import csrf_of, sign_in

PROJECT = 5
DEV, MAINTAINER = 1, 2


@pytest.fixture(scope="module")
def maintainers_promote(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui-promote-policy")
    uri, artifacts = f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts")
    seeded = seed_demo(uri, artifacts, project_id=PROJECT, n_runs=3, local=False)
    with OAuthFakeGitLab() as fake:
        fake.state.add_user(DEV, "dev")
        fake.state.add_user(MAINTAINER, "maia")
        fake.state.add_project(PROJECT, "private", {DEV: 30, MAINTAINER: 40}, name="churn")
        env = {"MLTRACKER_GITLAB_URL": fake.url, "MLTRACKER_WEBHOOK_SECRET": "s",
               "MLTRACKER_GITLAB_OAUTH_CLIENT_ID": CLIENT_ID, "MLTRACKER_GITLAB_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
               "MLTRACKER_PROMOTE_MIN_ACCESS_LEVEL": "40"}
        with run_mltracker(tmp, uri, artifacts, extra_env=env, workers=1) as server:
            server.seeded = seeded
            yield server, fake


def test_the_ui_follows_the_configured_promote_level(maintainers_promote):
    server, fake = maintainers_promote
    run = server.seeded.runs["run-001"]
    page_url = f"{server.url}/projects/{PROJECT}/candidates/{run}"
    developer = sign_in(server, fake, DEV)
    page = developer.get(page_url)
    assert page.status_code == 200
    assert 'id="promote"' not in page.text and "needs the Maintainer role" in page.text
    refused = developer.post(page_url + "/promote", data={"csrf_token": csrf_of(page.text), "model": "churn"},
                             allow_redirects=False)
    assert refused.status_code == 403 and "Maintainer" in refused.text
    maintainer = sign_in(server, fake, MAINTAINER)
    page = maintainer.get(page_url)
    assert 'id="promote"' in page.text
    done = maintainer.post(page_url + "/promote", data={"csrf_token": csrf_of(page.text), "model": "churn"},
                           allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"] == f"/projects/{PROJECT}/models/churn/versions/1"


def test_the_bot_reads_the_same_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("MLTRACKER_PROMOTE_MIN_ACCESS_LEVEL", "40")
    settings = settings_from_env(backend_store_uri=f"sqlite:///{tmp_path}/m.db")
    assert settings.promote_min_access_level == 40
    assert BotContext(db=None, gitlab=None, settings=settings).promote_min_access_level == 40
    monkeypatch.delenv("MLTRACKER_PROMOTE_MIN_ACCESS_LEVEL")
    assert BotContext(db=None, gitlab=None, settings=settings_from_env()).promote_min_access_level == 30
