"""GitLab mode: "Sign in with GitLab" (OAuth 2 authorization code + PKCE) against the fake GitLab,
session cookie, CSRF on every form, and the API's permission checks applied to the pages."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import run_mltracker
from tests.ui.conftest import screenshot
from tests.ui.oauth_fake import CLIENT_ID, CLIENT_SECRET, OAuthFakeGitLab
from tests.ui.seed import seed_demo

PROJECT, OTHER = 5, 6
DORA, RITA, OLGA = 1, 2, 3  # developer, reporter, no member


@pytest.fixture(scope="module")
def gitlab_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui-gitlab")
    uri, artifacts = f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts")
    seeded = seed_demo(uri, artifacts, project_id=PROJECT, n_runs=5, local=False)
    seed_demo(uri, artifacts, project_id=OTHER, n_runs=2, local=False)
    with OAuthFakeGitLab() as fake:
        fake.state.add_user(DORA, "dora")
        fake.state.add_user(RITA, "rita")
        fake.state.add_user(OLGA, "olga")
        fake.state.add_project(PROJECT, "private", {DORA: 30, RITA: 20}, name="churn")
        fake.state.add_project(OTHER, "private", {}, name="secret")
        env = {
            "MLTRACKER_GITLAB_URL": fake.url,
            "MLTRACKER_WEBHOOK_SECRET": "hook-secret",
            "MLTRACKER_GITLAB_OAUTH_CLIENT_ID": CLIENT_ID,
            "MLTRACKER_GITLAB_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        }
        with run_mltracker(tmp, uri, artifacts, extra_env=env) as server:
            server.seeded = seeded
            yield server, fake


def sign_in(server, fake, user_id: int, next_path: str = f"/projects/{PROJECT}/") -> requests.Session:
    """The browser's round trip, by hand: mltracker → GitLab authorize → mltracker callback."""
    fake.browser_user = user_id
    session = requests.Session()
    to_gitlab = session.get(f"{server.url}/-/sign-in", params={"next": next_path, "go": "1"}, allow_redirects=False)
    assert to_gitlab.status_code == 302 and to_gitlab.headers["Location"].startswith(fake.url + "/oauth/authorize")
    query = parse_qs(urlsplit(to_gitlab.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT_ID]
    back = session.get(to_gitlab.headers["Location"], allow_redirects=False)
    assert back.headers["Location"].startswith(server.url + "/-/oauth/callback")
    done = session.get(back.headers["Location"], allow_redirects=False)
    assert done.status_code == 302, done.text
    assert done.headers["Location"] == next_path
    return session


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_no_session_no_pages(gitlab_env):
    server, _ = gitlab_env
    page = requests.get(f"{server.url}/projects/{PROJECT}/", allow_redirects=False)
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/-/sign-in?next=/projects/5/")
    home = requests.get(server.url + "/")
    assert "Sign in with GitLab" in home.text and "churn" not in home.text
    candidate = requests.get(f"{server.url}/projects/{PROJECT}/candidates/{server.seeded.artifact_run}",
                             allow_redirects=False)
    assert candidate.status_code == 302
    api = requests.get(f"{server.url}/projects/{PROJECT}/api/2.0/mlflow/experiments/search")
    assert api.status_code == 401 and api.json()["error_code"] == "UNAUTHENTICATED"


def test_oauth_flow_in_the_browser(gitlab_env, browser):
    server, fake = gitlab_env
    fake.browser_user = DORA
    fake.token_requests.clear()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    target = f"{server.url}/projects/{PROJECT}/experiments/{server.seeded.experiment_id}"
    page.goto(target)
    expect(page.get_by_role("link", name="Sign in with GitLab")).to_be_visible()
    screenshot(page, "20-sign-in")
    page.get_by_role("link", name="Sign in with GitLab").click()
    expect(page.get_by_role("heading", name="churn-model")).to_be_visible()
    assert page.url == target
    expect(page.locator(".userbox")).to_contain_text("@dora")
    expect(page.locator(".breadcrumbs")).to_contain_text("group/churn")
    # The token request carried the PKCE verifier and the app's credentials (the fake checks them).
    (token_request,) = fake.token_requests
    assert token_request["grant_type"] == "authorization_code" and len(token_request["code_verifier"]) >= 43
    cookie = next(c for c in context.cookies() if c["name"] == "mltracker_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # http here
    # CI links point at the project in GitLab.
    pipeline = page.locator("table.candidates a", has_text="#500").first
    assert pipeline.get_attribute("href") == f"{fake.url}/group/churn/-/pipelines/500"
    page.goto(server.url + "/")
    expect(page.get_by_role("link", name=re.compile("churn"))).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("secret")
    screenshot(page, "21-projects")
    page.get_by_role("button", name="Sign out").click()
    page.goto(target)
    expect(page.get_by_role("link", name="Sign in with GitLab")).to_be_visible()
    context.close()


def test_denied_sign_in_and_forged_callback(gitlab_env):
    server, fake = gitlab_env
    fake.browser_user = None  # the user refuses on GitLab's consent screen
    session = requests.Session()
    to_gitlab = session.get(f"{server.url}/-/sign-in?go=1", allow_redirects=False)
    back = session.get(to_gitlab.headers["Location"], allow_redirects=False)
    refused = session.get(back.headers["Location"])
    assert refused.status_code == 403 and "Sign-in cancelled" in refused.text
    forged = requests.get(f"{server.url}/-/oauth/callback", params={"code": "x", "state": "y"})
    assert forged.status_code == 400 and "did not start here" in forged.text
    assert session.get(f"{server.url}/projects/{PROJECT}/", allow_redirects=False).status_code == 302


def test_reader_sees_but_reporter_cannot_promote(gitlab_env):
    server, fake = gitlab_env
    session = sign_in(server, fake, RITA)
    run = server.seeded.runs["run-001"]
    page = session.get(f"{server.url}/projects/{PROJECT}/candidates/{run}")
    assert page.status_code == 200 and "run-001" in page.text
    assert 'id="promote"' not in page.text and "needs the Developer role" in page.text
    refused = session.post(f"{server.url}/projects/{PROJECT}/candidates/{run}/promote",
                           data={"csrf_token": csrf_of(page.text), "model": "churn"}, allow_redirects=False)
    assert refused.status_code == 403 and "Developer" in refused.text
    models = session.get(f"{server.url}/projects/{PROJECT}/models")
    assert "No models yet" in models.text


def test_post_without_csrf_token_is_refused(gitlab_env):
    server, fake = gitlab_env
    session = sign_in(server, fake, DORA)
    run = server.seeded.artifact_run  # its artifacts hold a model folder
    url = f"{server.url}/projects/{PROJECT}/candidates/{run}/promote"
    page = session.get(f"{server.url}/projects/{PROJECT}/candidates/{run}")
    assert 'id="promote"' in page.text
    for data in ({"model": "churn"}, {"model": "churn", "csrf_token": "forged"}):
        refused = session.post(url, data=data, allow_redirects=False)
        assert refused.status_code == 400 and "CSRF" in refused.text
    signed_out = session.post(f"{server.url}/-/sign-out", allow_redirects=False)
    assert signed_out.status_code == 400  # sign-out is a form too
    done = session.post(url, data={"model": "churn", "csrf_token": csrf_of(page.text)}, allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"] == f"/projects/{PROJECT}/models/churn/versions/1"
    version = session.get(server.url + done.headers["Location"])
    assert "version 1" in version.text and "run-001" in version.text


def test_non_member_gets_not_found(gitlab_env):
    server, fake = gitlab_env
    session = sign_in(server, fake, OLGA, next_path="/")
    page = session.get(f"{server.url}/projects/{PROJECT}/")
    assert page.status_code == 404 and "do not have access" in page.text
    home = session.get(server.url + "/")
    assert "No projects to show" in home.text
    other = sign_in(server, fake, DORA, next_path="/")
    assert other.get(f"{server.url}/projects/{OTHER}/").status_code == 404


def test_view_run_link_in_gitlab_mode_opens_the_candidate_after_sign_in(gitlab_env, browser):
    """The client's link is <tracking URI>/#/experiments/<id>/runs/<run_id>, the tracking URI being
    <server>/projects/<id> (the format the stock client prints; see test_ui_mlflow_links.py)."""
    server, fake = gitlab_env
    fake.browser_user = DORA
    run = server.seeded.runs["run-003"]
    experiment = server.seeded.experiment_id
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{server.url}/projects/{PROJECT}/#/experiments/{experiment}/runs/{run}")
    page.get_by_role("link", name="Sign in with GitLab").click()
    expect(page).to_have_url(f"{server.url}/projects/{PROJECT}/candidates/{run}")
    expect(page.get_by_role("heading", name=re.compile("run-003"))).to_be_visible()
    page.goto(f"{server.url}/projects/{PROJECT}/#/experiments/{experiment}")
    expect(page).to_have_url(f"{server.url}/projects/{PROJECT}/experiments/{experiment}")
    expect(page.get_by_role("heading", name="churn-model")).to_be_visible()
    context.close()


def test_model_version_page_links_the_candidates_pipeline_job_commit_and_merge_request(gitlab_env):
    import io

    from mltracker.service.artifacts.factory import storage_from_destination
    from tests.ui.seed import ARTIFACTS, _artifact_key

    server, fake = gitlab_env
    run = server.seeded.runs["run-000"]  # logged by a CI job: pipeline 500, job 9000, MR !40
    storage_from_destination(server.artifacts_destination).write(
        _artifact_key(PROJECT, server.seeded.experiment_id, run, "model/MLmodel"), io.BytesIO(ARTIFACTS["model/MLmodel"]))
    session = sign_in(server, fake, DORA)
    page = session.get(f"{server.url}/projects/{PROJECT}/candidates/{run}")
    done = session.post(f"{server.url}/projects/{PROJECT}/candidates/{run}/promote", allow_redirects=False,
                        data={"csrf_token": csrf_of(page.text), "model": "ci-model", "alias": "staging",
                              "source": "artifacts:model"})
    assert done.headers["Location"] == f"/projects/{PROJECT}/models/ci-model/versions/1"
    version = session.get(server.url + done.headers["Location"]).text
    project = f"{fake.url}/group/churn"
    for href in (f"{project}/-/pipelines/500", f"{project}/-/jobs/9000", f"{project}/-/merge_requests/40",
                 f"{project}/-/commit/00ab3f91c0e2d4b5a69788123456789abcdef012"):
        assert f'href="{href}"' in version, href
    assert "@staging" in version and f"/projects/{PROJECT}/candidates/{run}" in version
    assert "mltracker.promoted_by" in version and "dora" in version
