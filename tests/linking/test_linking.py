"""Linking candidates to CI jobs: server-side tags, the link table, and refused forgeries."""
from __future__ import annotations

import uuid

import requests
from tests.fakes.gitlab_support import DEVELOPER, REPORTER, api, bearer, link_row

GITLAB_TAGS = ("gitlab.CI_JOB_ID", "gitlab.CI_PIPELINE_ID", "gitlab.CI_COMMIT_SHA", "gitlab.CI_COMMIT_REF_NAME",
               "gitlab.CI_MERGE_REQUEST_IID", "gitlab.user")


def _gitlab_tags(run) -> dict:
    return {k: v for k, v in run.data.tags.items() if k.startswith("gitlab.")}


def _post(server, project, path, token, body) -> requests.Response:
    return requests.post(api(server.url, project, path), json=body, headers=bearer(token), timeout=30)


def test_run_created_with_a_job_token_is_linked_to_job_pipeline_commit_and_mr(gitlab_server, scenario, client_as):
    user = scenario.user("ds")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user, ref="feature-x")
    scenario.fake.add_merge_request(project_id=project, iid=17, source_branch="feature-x", shas=[job.sha])
    scenario.fake.add_merge_request(project_id=project, iid=3, source_branch="other", shas=[job.sha])

    client = client_as(job.token, project)
    run = client.create_run(client.create_experiment(f"e-{uuid.uuid4().hex[:6]}"))
    assert _gitlab_tags(client.get_run(run.info.run_id)) == {
        "gitlab.CI_JOB_ID": str(job.id),
        "gitlab.CI_PIPELINE_ID": str(job.pipeline_id),
        "gitlab.CI_COMMIT_SHA": job.sha,
        "gitlab.CI_COMMIT_REF_NAME": "feature-x",
        "gitlab.CI_MERGE_REQUEST_IID": "17",
        "gitlab.user": user.username,
    }
    row = link_row(gitlab_server, run.info.run_id)
    assert (row.project_id, row.job_id, row.pipeline_id, row.commit_sha, row.ref, row.merge_request_iid, row.user) == (
        project, job.id, job.pipeline_id, job.sha, "feature-x", 17, user.username)


def test_merge_request_pipeline_ref_gives_the_mr_and_its_source_branch(gitlab_server, scenario, client_as):
    user = scenario.user("ds")
    project = scenario.project(members={user: DEVELOPER})
    scenario.fake.add_merge_request(project_id=project, iid=7, source_branch="tune-lr")
    job = scenario.job(project, user, ref="refs/merge-requests/7/head")
    client = client_as(job.token, project)
    run = client.create_run("0")
    tags = _gitlab_tags(client.get_run(run.info.run_id))
    assert tags["gitlab.CI_MERGE_REQUEST_IID"] == "7"
    assert tags["gitlab.CI_COMMIT_REF_NAME"] == "tune-lr"


def test_branch_pipeline_without_an_open_mr_has_no_mr_tag(gitlab_server, scenario, client_as):
    user = scenario.user("ds")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user, ref="main")
    scenario.fake.add_merge_request(project_id=project, iid=2, source_branch="old", shas=[job.sha], state="merged")
    client = client_as(job.token, project)
    run = client.create_run("0")
    tags = _gitlab_tags(client.get_run(run.info.run_id))
    assert "gitlab.CI_MERGE_REQUEST_IID" not in tags
    assert tags["gitlab.CI_COMMIT_REF_NAME"] == "main"
    assert link_row(gitlab_server, run.info.run_id).merge_request_iid is None


def test_run_created_with_a_personal_token_is_not_linked(gitlab_server, scenario, client_as):
    user = scenario.user("laptop")
    project = scenario.project(members={user: DEVELOPER})
    client = client_as(user.token, project)
    run = client.create_run("0")
    assert _gitlab_tags(client.get_run(run.info.run_id)) == {}
    assert link_row(gitlab_server, run.info.run_id) is None


def test_client_set_job_id_is_linked_after_checking_the_job(gitlab_server, scenario, client_as):
    # GitLab's documented snippet: mlflow.set_tag("gitlab.CI_JOB_ID", os.getenv("CI_JOB_ID")).
    user = scenario.user("ds")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user, ref="main")
    client = client_as(user.token, project)

    run = client.create_run("0")
    client.set_tag(run.info.run_id, "gitlab.CI_JOB_ID", str(job.id))
    assert _gitlab_tags(client.get_run(run.info.run_id))["gitlab.CI_PIPELINE_ID"] == str(job.pipeline_id)
    assert link_row(gitlab_server, run.info.run_id).job_id == job.id
    client.set_tag(run.info.run_id, "gitlab.CI_JOB_ID", str(job.id))  # repeating it is fine

    created = client.create_run("0", tags={"gitlab.CI_JOB_ID": str(job.id)})
    assert _gitlab_tags(client.get_run(created.info.run_id))["gitlab.user"] == user.username
    assert link_row(gitlab_server, created.info.run_id).pipeline_id == job.pipeline_id

    # the same, from a job token that names its own job
    job_client = client_as(job.token, project)
    own = job_client.create_run("0", tags={"gitlab.CI_JOB_ID": str(job.id)})
    assert link_row(gitlab_server, own.info.run_id).job_id == job.id


def test_job_id_of_another_project_is_refused(gitlab_server, scenario, client_as):
    user = scenario.user("ds")
    project = scenario.project(members={user: DEVELOPER})
    other = scenario.project(members={user: DEVELOPER})
    foreign = scenario.job(other, user)
    run_id = client_as(user.token, project).create_run("0").info.run_id

    for path, body in (
        ("runs/create", {"experiment_id": "0", "tags": [{"key": "gitlab.CI_JOB_ID", "value": str(foreign.id)}]}),
        ("runs/set-tag", {"run_id": run_id, "key": "gitlab.CI_JOB_ID", "value": str(foreign.id)}),
        ("runs/log-batch", {"run_id": run_id, "tags": [{"key": "gitlab.CI_JOB_ID", "value": str(foreign.id)}]}),
        ("runs/set-tag", {"run_id": run_id, "key": "gitlab.CI_JOB_ID", "value": "not-a-number"}),
        ("runs/set-tag", {"run_id": run_id, "key": "gitlab.CI_JOB_ID", "value": "99999999"}),
    ):
        response = _post(gitlab_server, project, path, user.token, body)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert link_row(gitlab_server, run_id) is None

    # a job token naming another project's job
    own_job = scenario.job(project, user)
    response = _post(gitlab_server, project, "runs/create", own_job.token,
                     {"experiment_id": "0", "tags": [{"key": "gitlab.CI_JOB_ID", "value": str(foreign.id)}]})
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_other_gitlab_tags_cannot_be_forged(gitlab_server, scenario, client_as):
    user = scenario.user("ds")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user)
    run_id = client_as(job.token, project).create_run("0").info.run_id
    forged = [{"key": "gitlab.CI_PIPELINE_ID", "value": "1"}]
    for token in (user.token, job.token):
        for path, body in (
            ("runs/create", {"experiment_id": "0", "tags": forged}),
            ("runs/set-tag", {"run_id": run_id, **forged[0]}),
            ("runs/log-batch", {"run_id": run_id, "tags": forged}),
            ("runs/set-tag", {"run_id": run_id, "key": "gitlab.user", "value": "someone-else"}),
            ("runs/delete-tag", {"run_id": run_id, "key": "gitlab.CI_JOB_ID"}),
        ):
            response = _post(gitlab_server, project, path, token, body)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    # Re-linking to another job of the project is refused too.
    second = scenario.job(project, user)
    response = _post(gitlab_server, project, "runs/set-tag", user.token,
                     {"run_id": run_id, "key": "gitlab.CI_JOB_ID", "value": str(second.id)})
    assert response.status_code == 400
    # Repeating the stored value (a client copying tags) is harmless.
    response = _post(gitlab_server, project, "runs/set-tag", user.token,
                     {"run_id": run_id, "key": "gitlab.CI_PIPELINE_ID", "value": str(job.pipeline_id)})
    assert response.status_code == 200, response.text
    assert link_row(gitlab_server, run_id).job_id == job.id


def test_other_tags_still_work(gitlab_server, scenario, client_as):
    user = scenario.user("ds")
    project = scenario.project(members={user: DEVELOPER})
    client = client_as(user.token, project)
    run = client.create_run("0", tags={"team": "vision", "gitlabish": "ok"})
    client.set_tag(run.info.run_id, "stage", "tuning")
    client.delete_tag(run.info.run_id, "team")
    assert client.get_run(run.info.run_id).data.tags.get("stage") == "tuning"


def test_reporter_job_cannot_create_runs(gitlab_server, scenario):
    reporter = scenario.user("rep")
    project = scenario.project(members={reporter: REPORTER})
    job = scenario.job(project, reporter)
    response = _post(gitlab_server, project, "runs/create", job.token, {"experiment_id": "0"})
    assert response.status_code == 403
