"""GitLab mode: MLflow's UI per project (/projects/<id>/mlflow/) behind mltracker's sign-in. The
page needs a signed-in user who may read the project; the API calls it makes are authorized with
that user's GitLab token by the same Authorizer as any API call, and a call that is not a read
must carry the session's CSRF token (which the page hands the UI)."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.ui.conftest import screenshot
from tests.ui.test_ui_oauth import DORA, OLGA, PROJECT, gitlab_env, sign_in  # noqa: F401 - the fixture
from tests.ui.test_mlflow_ui import NO_ASSISTANT

SEARCH = "/ajax-api/2.0/mlflow/runs/search"
CSRF_COOKIE = "mlflow-request-header-X-CSRF-Token"


def test_signed_in_reader_sees_the_project_in_mlflows_ui(gitlab_env, browser):  # noqa: F811
    server, fake = gitlab_env
    fake.browser_user = DORA
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(NO_ASSISTANT)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    base = f"{server.url}/projects/{PROJECT}/mlflow/"
    page.goto(base)
    page.get_by_role("link", name="Sign in with GitLab").click()
    expect(page).to_have_url(base)
    page.goto(f"{base}#/experiments/{server.seeded.experiment_id}/runs")
    for name in ("run-000", "run-004"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible(timeout=30_000)
    screenshot(page, "mlflow-ui-gitlab-experiment", full_page=False)
    run_id = server.seeded.runs["run-002"]
    page.goto(f"{base}#/experiments/{server.seeded.experiment_id}/runs/{run_id}")
    expect(page.get_by_role("heading", name="run-002")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Open in mltracker").click()
    expect(page).to_have_url(f"{server.url}/projects/{PROJECT}/candidates/{run_id}")
    expect(page.locator(".userbox")).to_contain_text("@dora")
    context.close()
    assert not dialogs, f"a script ran in the page: {dialogs}"


def test_no_session_no_ui_and_no_api(gitlab_env):  # noqa: F811
    server, _ = gitlab_env
    page = requests.get(f"{server.url}/projects/{PROJECT}/mlflow/", allow_redirects=False, timeout=30)
    assert page.status_code == 302 and page.headers["Location"].startswith("/-/sign-in?next=/projects/5/mlflow/")
    api = requests.post(f"{server.url}/projects/{PROJECT}/mlflow{SEARCH}", json={}, timeout=30)
    assert api.status_code == 401 and api.json()["error_code"] == "UNAUTHENTICATED"
    root = requests.get(f"{server.url}/mlflow/", allow_redirects=False, timeout=30)
    assert root.status_code == 302 and root.headers["Location"] == "/"  # choose a project first


def test_the_session_reaches_the_api_only_through_the_ui_and_with_its_csrf_token(gitlab_env):  # noqa: F811
    server, fake = gitlab_env
    session = sign_in(server, fake, DORA, next_path=f"/projects/{PROJECT}/mlflow/")
    ui = f"{server.url}/projects/{PROJECT}/mlflow"
    page = session.get(ui + "/", timeout=30)
    assert page.status_code == 200 and "Open in mltracker" in page.text
    token = session.cookies.get(CSRF_COOKIE, path=f"/projects/{PROJECT}/mlflow/")
    assert token
    body = {"experiment_ids": [str(server.seeded.experiment_id)], "max_results": 3}
    assert session.get(ui + "/ajax-api/2.0/mlflow/experiments/search", params={"max_results": 5},
                       timeout=30).status_code == 200
    refused = session.post(ui + SEARCH, json=body, timeout=30)
    assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
    allowed = session.post(ui + SEARCH, json=body, headers={"X-CSRF-Token": token}, timeout=30)
    assert allowed.status_code == 200 and len(allowed.json()["runs"]) == 3
    # The browser's session is no credential for the API at its own paths.
    direct = session.post(f"{server.url}/projects/{PROJECT}{SEARCH}", json=body, headers={"X-CSRF-Token": token},
                          timeout=30)
    assert direct.status_code == 401, direct.text
    graphql = session.post(ui + "/graphql", headers={"X-CSRF-Token": token}, timeout=30, json={
        "query": "query Q($i: MlflowGetExperimentInput!) { mlflowGetExperiment(input: $i) { experiment { name } } }",
        "variables": {"i": {"experimentId": str(server.seeded.experiment_id)}}})
    assert graphql.json() == {"data": {"mlflowGetExperiment": {"experiment": {"name": "churn-model"}}},
                              "errors": None}


def test_non_member_gets_not_found(gitlab_env):  # noqa: F811
    server, fake = gitlab_env
    session = sign_in(server, fake, OLGA, next_path="/")
    page = session.get(f"{server.url}/projects/{PROJECT}/mlflow/", timeout=30)
    assert page.status_code == 404 and re.search("do not have access", page.text)
    api = session.get(f"{server.url}/projects/{PROJECT}/mlflow/ajax-api/2.0/mlflow/experiments/search",
                      params={"max_results": 5}, timeout=30)
    assert api.status_code == 404 and api.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
