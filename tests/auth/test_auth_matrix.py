"""The auth matrix in GitLab mode: every cell asserted against a live server and a fake GitLab.

Positive cells use the stock MLflow client (MLFLOW_TRACKING_TOKEN); error cells use raw requests
to assert the exact status and MLflow error code.
"""
from __future__ import annotations

import base64
import time
import uuid

import pytest
import requests

from tests.fakes.gitlab_support import (
    AUTH_CACHE_TTL_S,
    DEVELOPER,
    GUEST,
    MAINTAINER,
    REPORTER,
    api,
    bearer,
    create_experiment_raw,
)


def _search(url: str, project_id: int, headers: dict | None = None) -> requests.Response:
    return requests.get(api(url, project_id, "experiments/search"), params={"max_results": 10},
                        headers=headers or {}, timeout=30)


def _assert_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error_code"] == code


def _name() -> str:
    return f"exp-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- no / bad / revoked token

def test_no_token_is_401(gitlab_server, scenario):
    project = scenario.project()
    response = _search(gitlab_server.url, project)
    _assert_error(response, 401, "UNAUTHENTICATED")
    assert "Bearer" in response.headers["WWW-Authenticate"]
    _assert_error(create_experiment_raw(gitlab_server.url, project, "", _name()), 401, "UNAUTHENTICATED")


def test_bad_token_is_401(gitlab_server, scenario):
    project = scenario.project()
    _assert_error(_search(gitlab_server.url, project, bearer("glpat-not-a-real-token")), 401, "UNAUTHENTICATED")
    _assert_error(_search(gitlab_server.url, project, bearer("some-opaque-token")), 401, "UNAUTHENTICATED")
    _assert_error(_search(gitlab_server.url, project, bearer("glcbt-not-a-job")), 401, "UNAUTHENTICATED")


def test_revoked_token_stops_working_after_the_ttl(gitlab_server, scenario, client_as):
    user = scenario.user("revoked")
    project = scenario.project(members={user: DEVELOPER})
    client_as(user.token, project).search_experiments()
    scenario.fake.revoke(token=user.token)
    time.sleep(AUTH_CACHE_TTL_S + 0.5)
    _assert_error(_search(gitlab_server.url, project, bearer(user.token)), 401, "UNAUTHENTICATED")


def test_basic_auth_with_the_token_as_password(gitlab_server, scenario):
    user = scenario.user("basic")
    project = scenario.project(members={user: REPORTER})
    credentials = base64.b64encode(f"anything:{user.token}".encode()).decode()
    assert _search(gitlab_server.url, project, {"Authorization": f"Basic {credentials}"}).status_code == 200
    wrong = base64.b64encode(b"anything:glpat-wrong").decode()
    _assert_error(_search(gitlab_server.url, project, {"Authorization": f"Basic {wrong}"}), 401, "UNAUTHENTICATED")


# ---------------------------------------------------------------- roles × read / write

@pytest.mark.parametrize("level", [GUEST])
def test_guest_can_neither_read_nor_write_a_private_project(gitlab_server, scenario, level):
    user = scenario.user("guest")
    project = scenario.project(members={user: level})
    _assert_error(_search(gitlab_server.url, project, bearer(user.token)), 403, "PERMISSION_DENIED")
    _assert_error(create_experiment_raw(gitlab_server.url, project, user.token, _name()), 403, "PERMISSION_DENIED")


def test_reporter_reads_but_cannot_write(gitlab_server, scenario, client_as):
    developer = scenario.user("dev")
    reporter = scenario.user("reporter")
    project = scenario.project(members={developer: DEVELOPER, reporter: REPORTER})
    experiment_id = client_as(developer.token, project).create_experiment(_name())

    client = client_as(reporter.token, project)
    assert client.get_experiment(experiment_id).experiment_id == experiment_id
    assert [e.experiment_id for e in client.search_experiments()] == [experiment_id]
    assert client.search_runs([experiment_id]) == []  # POST runs/search is a read
    _assert_error(create_experiment_raw(gitlab_server.url, project, reporter.token, _name()), 403, "PERMISSION_DENIED")
    response = requests.post(api(gitlab_server.url, project, "runs/create"), json={"experiment_id": experiment_id},
                             headers=bearer(reporter.token), timeout=30)
    _assert_error(response, 403, "PERMISSION_DENIED")
    assert "Reporter" in response.json()["message"] and "Developer" in response.json()["message"]


@pytest.mark.parametrize("level", [DEVELOPER, MAINTAINER])
def test_developer_and_maintainer_read_and_write(gitlab_server, scenario, client_as, level):
    user = scenario.user("writer")
    project = scenario.project(members={user: level})
    client = client_as(user.token, project)
    experiment_id = client.create_experiment(_name())
    run = client.create_run(experiment_id)
    client.log_metric(run.info.run_id, "loss", 0.5)
    client.set_terminated(run.info.run_id)
    assert client.get_run(run.info.run_id).data.metrics == {"loss": 0.5}


def test_default_experiment_zero_works_in_a_gitlab_project(gitlab_server, scenario, client_as):
    user = scenario.user("default")
    project = scenario.project(members={user: DEVELOPER})
    client = client_as(user.token, project)
    run = client.create_run("0")
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "Default"
    assert client.get_experiment("0").experiment_id == experiment.experiment_id


def test_inherited_membership_counts(gitlab_server, scenario, client_as):
    # members/all answers inherited and invited members too; the fake returns whatever level is set.
    user = scenario.user("inherited")
    project = scenario.project(members={user: MAINTAINER})
    client_as(user.token, project).create_experiment(_name())


# ---------------------------------------------------------------- public vs private

def test_private_project_is_hidden_from_non_members(gitlab_server, scenario):
    stranger = scenario.user("stranger")
    project = scenario.project(visibility="private")
    _assert_error(_search(gitlab_server.url, project, bearer(stranger.token)), 404, "RESOURCE_DOES_NOT_EXIST")
    _assert_error(create_experiment_raw(gitlab_server.url, project, stranger.token, _name()), 404,
                  "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("visibility", ["public", "internal"])
def test_public_project_is_readable_by_any_signed_in_user(gitlab_server, scenario, client_as, visibility):
    owner = scenario.user("owner")
    stranger = scenario.user("stranger")
    guest = scenario.user("guest")
    project = scenario.project(visibility=visibility, members={owner: MAINTAINER, guest: GUEST})
    experiment_id = client_as(owner.token, project).create_experiment(_name())
    for reader in (stranger, guest):
        assert client_as(reader.token, project).get_experiment(experiment_id).experiment_id == experiment_id
        _assert_error(create_experiment_raw(gitlab_server.url, project, reader.token, _name()), 403,
                      "PERMISSION_DENIED")
    _assert_error(_search(gitlab_server.url, project), 401, "UNAUTHENTICATED")  # signed in, not anonymous


# ---------------------------------------------------------------- CI job tokens

def test_job_token_of_this_project_while_running(gitlab_server, scenario, client_as):
    user = scenario.user("ci")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user)
    client = client_as(job.token, project)
    experiment_id = client.create_experiment(_name())
    run = client.create_run(experiment_id)
    client.log_metric(run.info.run_id, "accuracy", 0.9)
    assert client.get_run(run.info.run_id).data.tags["gitlab.CI_JOB_ID"] == str(job.id)


def test_job_token_without_prefix_is_recognised(gitlab_server, scenario, client_as):
    # Self-managed instances without token prefixes: GET /user answers 401, then GET /job succeeds.
    user = scenario.user("ci")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user, token_prefix="")
    client_as(job.token, project).create_experiment(_name())


@pytest.mark.parametrize("gitlab_behaviour", ["reject", "answer"])
def test_job_token_after_the_job_finished(gitlab_server, scenario, gitlab_behaviour):
    # GitLab itself rejects the token of a finished job ("reject"); if it still answered with the
    # job ("answer"), mltracker checks the status itself.
    scenario.fake.set_finished_job_tokens(behaviour=gitlab_behaviour)
    user = scenario.user("ci")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user)
    assert create_experiment_raw(gitlab_server.url, project, job.token, _name()).status_code == 200
    scenario.fake.set_job_status(job_id=job.id, status="success")
    time.sleep(AUTH_CACHE_TTL_S + 0.5)
    _assert_error(create_experiment_raw(gitlab_server.url, project, job.token, _name()), 401, "UNAUTHENTICATED")
    _assert_error(_search(gitlab_server.url, project, bearer(job.token)), 401, "UNAUTHENTICATED")


def test_job_token_of_another_project(gitlab_server, scenario):
    user = scenario.user("ci")
    project = scenario.project(members={user: DEVELOPER})
    other = scenario.project(members={user: DEVELOPER})
    job = scenario.job(other, user)
    _assert_error(_search(gitlab_server.url, project, bearer(job.token)), 403, "PERMISSION_DENIED")
    _assert_error(create_experiment_raw(gitlab_server.url, project, job.token, _name()), 403, "PERMISSION_DENIED")


def test_job_token_carries_its_users_role(gitlab_server, scenario):
    reporter = scenario.user("ci-reporter")
    project = scenario.project(members={reporter: REPORTER})
    job = scenario.job(project, reporter)
    assert _search(gitlab_server.url, project, bearer(job.token)).status_code == 200
    _assert_error(create_experiment_raw(gitlab_server.url, project, job.token, _name()), 403, "PERMISSION_DENIED")


def test_job_token_in_the_job_token_header(gitlab_server, scenario):
    user = scenario.user("ci")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user, token_prefix="")
    assert _search(gitlab_server.url, project, {"JOB-TOKEN": job.token}).status_code == 200


# ---------------------------------------------------------------- GitLab down

@pytest.mark.parametrize("mode", ["down", "error"])
def test_gitlab_unavailable_is_503_never_an_allow(gitlab_server, scenario, mode):
    user = scenario.user("down")
    project = scenario.project(members={user: MAINTAINER})
    job = scenario.job(project, user)
    scenario.fake.set_mode(mode=mode)
    try:
        for token in (user.token, job.token, "opaque-token"):
            _assert_error(_search(gitlab_server.url, project, bearer(token)), 503, "TEMPORARILY_UNAVAILABLE")
            _assert_error(create_experiment_raw(gitlab_server.url, project, token, _name()), 503,
                          "TEMPORARILY_UNAVAILABLE")
    finally:
        scenario.fake.set_mode(mode="up")
    # Not cached: once GitLab is back, the same tokens work.
    assert _search(gitlab_server.url, project, bearer(user.token)).status_code == 200


def test_gitlab_unreachable_is_503(tmp_path, fake_gitlab):
    from tests.fakes.gitlab_support import gitlab_env
    from tests.conftest import free_port, run_mltracker

    env = gitlab_env(fake_gitlab)
    env["MLTRACKER_GITLAB_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with run_mltracker(tmp_path, f"sqlite:///{tmp_path}/m.db", str(tmp_path / "a"), extra_env=env, workers=1) as server:
        _assert_error(_search(server.url, 1, bearer("glpat-x")), 503, "TEMPORARILY_UNAVAILABLE")


# ---------------------------------------------------------------- outside the projects

def test_root_paths_are_refused_in_gitlab_mode(gitlab_server, scenario):
    user = scenario.user("root")
    for headers in ({}, bearer(user.token)):
        response = requests.get(f"{gitlab_server.url}/api/2.0/mlflow/experiments/search", headers=headers, timeout=30)
        _assert_error(response, 404, "ENDPOINT_NOT_FOUND")
        assert "/projects/" in response.json()["message"]
        response = requests.post(f"{gitlab_server.url}/api/2.0/mlflow/runs/create", json={}, headers=headers,
                                 timeout=30)
        _assert_error(response, 404, "ENDPOINT_NOT_FOUND")


def test_health_needs_no_token(gitlab_server):
    assert requests.get(f"{gitlab_server.url}/health", timeout=30).status_code == 200


def test_tokens_never_reach_the_log(gitlab_server, scenario, client_as):
    user = scenario.user("secret")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user)
    client_as(user.token, project).create_experiment(_name())
    client_as(job.token, project).create_run("0")
    log = gitlab_server.log()
    assert user.token not in log and job.token not in log
