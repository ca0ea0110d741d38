"""One authorization path: the API's auth hook guards the per-project API blueprints only; the UI
asks the same Authorizer with its own credential; the Default experiment is the tracking domain's."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from tests.fakes.gitlab_support import DEVELOPER, REPORTER, api, bearer, gitlab_env
from mltracker.service.app import create_app
from mltracker.service.auth import authenticate_api_request
from mltracker.service.db.schema import experiments
from mltracker.service.settings import Settings
from mltracker.service.tracking import experiments as exps
from tests.conftest import migrated_database


@pytest.fixture
def gitlab_app(fake_gitlab, tmp_path):
    env = gitlab_env(fake_gitlab)
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path}/m.db", artifacts_destination=str(tmp_path / "a"),
                        data_dir=str(tmp_path), gitlab_url=env["MLTRACKER_GITLAB_URL"],
                        gitlab_token=env["MLTRACKER_GITLAB_TOKEN"], webhook_secret="s", run_jobs_in_process=False)
    return create_app(settings)


def test_the_api_hook_is_on_the_project_api_blueprint_only(gitlab_app):
    app_wide = gitlab_app.before_request_funcs.get(None, [])
    assert authenticate_api_request not in app_wide
    assert gitlab_app.before_request_funcs["project_api"] == [authenticate_api_request]
    ui_hooks = [f.__name__ for f in gitlab_app.before_request_funcs.get("ui_p", [])]
    assert "authenticate_api_request" not in ui_hooks


def test_ui_pages_are_not_authorised_by_an_authorization_header(gitlab_app, scenario):
    """A page is the UI's: a valid API token in a header is not a session (no header forging,
    no API hook on pages)."""
    user = scenario.user("hdr")
    project = scenario.project(members={user: DEVELOPER})
    with gitlab_app.test_client() as client:
        page = client.get(f"/projects/{project}/", headers=bearer(user.token))
        assert page.status_code == 302 and "/-/sign-in" in page.headers["Location"]
        listed = client.get(f"/projects/{project}/api/2.0/mlflow/experiments/search",
                            headers=bearer(user.token))
        assert listed.status_code == 200, listed.data


def test_unknown_paths_under_a_project_are_404_not_401(gitlab_app, scenario):
    project = scenario.project()
    with gitlab_app.test_client() as client:
        assert client.get(f"/projects/{project}/api/2.0/mlflow/no-such-endpoint").status_code == 404


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_default_experiment_is_created_by_the_tracking_domain(kind, tmp_path):
    with migrated_database(kind, tmp_path) as db:
        with db.read() as conn:
            assert exps.resolve_experiment_id(conn, 77, "0") == 0  # not created without `create`
        with db.write() as conn:
            created = exps.resolve_experiment_id(conn, 77, "0", create=True)
        with db.write() as conn:
            assert exps.resolve_experiment_id(conn, 77, "0", create=True) == created
            names = conn.execute(select(experiments.c.name).where(experiments.c.project_id == 77)).scalars().all()
        assert created != 0 and names == ["Default"]


def test_reporter_gets_the_default_experiment_and_a_job_logs_to_it(gitlab_server, scenario):
    reporter = scenario.user("rep")
    developer = scenario.user("dev")
    project = scenario.project(members={reporter: REPORTER, developer: DEVELOPER})
    got = requests.get(api(gitlab_server.url, project, "experiments/get"), params={"experiment_id": "0"},
                       headers=bearer(reporter.token), timeout=30)
    assert got.status_code == 200, got.text
    default_id = got.json()["experiment"]["experiment_id"]
    job = scenario.job(project, developer)
    run = requests.post(api(gitlab_server.url, project, "runs/create"), json={"experiment_id": "0"},
                        headers=bearer(job.token), timeout=30)
    assert run.status_code == 200, run.text
    assert run.json()["run"]["info"]["experiment_id"] == default_id
