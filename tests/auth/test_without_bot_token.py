"""Without MLTRACKER_GITLAB_TOKEN: job tokens still work (as Developer when the operator says so with
MLTRACKER_UNVERIFIED_JOB_ACCESS_LEVEL=30; read-only otherwise), merge request
pipelines are still linked to their MR from the ref, and client-named jobs can be checked with
the caller's own user token but not with a job token."""
from __future__ import annotations

import pytest
import requests

from tests.fakes.gitlab_support import DEVELOPER, REPORTER, api, bearer, gitlab_env
from tests.conftest import run_mltracker


@pytest.fixture(scope="module")
def botless_server(fake_gitlab, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gitlab-botless")
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts"),
                       extra_env={**gitlab_env(fake_gitlab, bot_token=None),
                                  "MLTRACKER_UNVERIFIED_JOB_ACCESS_LEVEL": "30"}, workers=1) as server:
        yield server


def _create_run(server, project, token, tags=()):
    return requests.post(api(server.url, project, "runs/create"), headers=bearer(token), timeout=30,
                         json={"experiment_id": "0", "tags": [{"key": k, "value": v} for k, v in tags]})


def _tags(response) -> dict:
    return {t["key"]: t["value"] for t in response.json()["run"]["data"]["tags"] if t["key"].startswith("gitlab.")}


def test_job_tokens_without_a_bot_token(botless_server, scenario):
    user = scenario.user("ds")
    reporter = scenario.user("rep")
    project = scenario.project(members={user: DEVELOPER, reporter: REPORTER})

    mr_job = scenario.job(project, user, ref="refs/merge-requests/4/head")
    response = _create_run(botless_server, project, mr_job.token)
    assert response.status_code == 200, response.text
    tags = _tags(response)
    assert tags["gitlab.CI_MERGE_REQUEST_IID"] == "4"
    assert tags["gitlab.CI_COMMIT_REF_NAME"] == "refs/merge-requests/4/head"  # no API to ask for the branch

    branch_job = scenario.job(project, user, ref="feature")
    scenario.fake.add_merge_request(project_id=project, iid=5, source_branch="feature", shas=[branch_job.sha])
    tags = _tags(_create_run(botless_server, project, branch_job.token))
    assert tags["gitlab.CI_JOB_ID"] == str(branch_job.id) and "gitlab.CI_MERGE_REQUEST_IID" not in tags

    # The job's user's role cannot be looked up without the bot token: jobs act as the level configured.
    reporter_job = scenario.job(project, reporter)
    assert _create_run(botless_server, project, reporter_job.token).status_code == 200

    # A job token cannot verify another job; a user token can (GET /projects/:id/jobs/:id as the user).
    response = _create_run(botless_server, project, mr_job.token, [("gitlab.CI_JOB_ID", str(branch_job.id))])
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    response = _create_run(botless_server, project, user.token, [("gitlab.CI_JOB_ID", str(branch_job.id))])
    assert response.status_code == 200, response.text
    assert _tags(response)["gitlab.CI_MERGE_REQUEST_IID"] == "5"  # the user's token found the MR
