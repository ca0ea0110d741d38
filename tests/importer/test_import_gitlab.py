"""`mltracker import mlflow <gitlab>/api/v4/projects/<id>/ml/mlflow`: the same history, read through
GitLab's built-in tracker (tests/fakes/gitlab_mlflow.py, in front of the real mlflow server) with a
GitLab token, imported into mltracker in GitLab mode: runs keep their ids, histories and artifacts,
and a candidate's `gitlab.CI_JOB_ID` becomes a CI link checked against GitLab; killed midway, the
import resumes to the same state (PostgreSQL + S3)."""
from __future__ import annotations

import os
import signal

import pytest
from mlflow import MlflowClient

from tests.conftest import run_mltracker
from tests.fakes.gitlab_mlflow import FakeGitLabWithMlflow
from tests.importer.compare import snapshot
from tests.importer.store_state import done_runs, wait_for_a_finished_run
from tests.importer.targets import make_target

pytestmark = pytest.mark.e2e

EXPERIMENTS = ["imp-alpha", "imp-beta"]
PROJECT, SOURCE_PROJECT = 77, 12
BOT, USER = 9100, 9101
BOT_TOKEN, USER_TOKEN = "glpat-import-bot", "glpat-import-user"
JOB, PIPELINE, SHA = 4242, 5151, "b83d6e391c22777fca1ed3012fce84f633d7fed0"
# What GitLab's API does not carry: dataset inputs and model outputs (a run is info + data),
# and deleted runs (GitLab destroys them).
NOT_IN_GITLAB = ("datasets", "model_outputs")


@pytest.fixture(scope="module")
def gitlab(source):
    server, _ = source
    with FakeGitLabWithMlflow(server.url) as fake:
        fake.add_user(id=BOT, username="mltracker-bot", admin=True)
        fake.add_token(token=BOT_TOKEN, user_id=BOT)
        fake.add_user(id=USER, username="ana")
        fake.add_token(token=USER_TOKEN, user_id=USER)
        fake.add_project(id=SOURCE_PROJECT, members={USER: 30})
        fake.add_project(id=PROJECT, members={USER: 30})
        fake.add_job(id=JOB, project_id=PROJECT, pipeline_id=PIPELINE, user_id=USER, ref="main", sha=SHA,
                     status="success")
        yield fake


def _gitlab_mode(fake) -> dict:
    return {"MLTRACKER_GITLAB_URL": fake.url, "MLTRACKER_GITLAB_TOKEN": BOT_TOKEN,
            "MLTRACKER_WEBHOOK_SECRET": "import-test-secret", "MLTRACKER_GITLAB_TIMEOUT": "5"}


def test_without_a_token_the_source_refuses(gitlab, tmp_path):
    with make_target("sqlite-local", tmp_path) as target:
        proc = target.run_import(gitlab.tracking_uri(SOURCE_PROJECT), "--project", str(PROJECT),
                                 env=_gitlab_mode(gitlab), check=False)
        assert proc.returncode == 1 and "HTTP 401" in proc.stdout, proc.stdout + proc.stderr


def test_import_from_gitlab_keeps_runs_and_links_ci_jobs(gitlab, source, tmp_path_factory):
    server, logged = source
    expected = snapshot(server.url, EXPERIMENTS, with_models=False)
    tmp = tmp_path_factory.mktemp("from-gitlab")
    with make_target("sqlite-local", tmp) as target:
        target.env.update(_gitlab_mode(gitlab))
        first = target.run_import(gitlab.tracking_uri(SOURCE_PROJECT), "--project", str(PROJECT),
                                  env={"MLFLOW_TRACKING_TOKEN": USER_TOKEN})
        assert "CI links: 1" in first.stdout and "conflicts: 0" in first.stdout, first.stdout
        assert "no logged models API" in first.stdout

        with run_mltracker(tmp, target.backend_store_uri, target.artifacts_destination, extra_env=target.env) as live:
            os.environ["MLFLOW_TRACKING_TOKEN"] = USER_TOKEN
            try:
                got = snapshot(f"{live.url}/projects/{PROJECT}", EXPERIMENTS, with_models=False)
                child = MlflowClient(f"{live.url}/projects/{PROJECT}").get_run(logged["child"])
            finally:
                del os.environ["MLFLOW_TRACKING_TOKEN"]

        _assert_like_source(expected, got, logged)
        assert child.data.tags["gitlab.CI_JOB_ID"] == str(JOB)
        assert child.data.tags["gitlab.CI_PIPELINE_ID"] == str(PIPELINE)
        assert child.data.tags["gitlab.CI_COMMIT_SHA"] == SHA

        again = target.run_import(gitlab.tracking_uri(SOURCE_PROJECT), "--project", str(PROJECT),
                                  env={"MLFLOW_TRACKING_TOKEN": USER_TOKEN})
        assert "runs: 0 copied, 0 resumed, 4 unchanged" in again.stdout, again.stdout


def test_killed_midway_then_resumed_on_postgres_and_s3(gitlab, source, s3_server, tmp_path_factory):
    server, logged = source
    expected = snapshot(server.url, EXPERIMENTS, with_models=False)
    tmp = tmp_path_factory.mktemp("gitlab-killed")
    with make_target("postgres-s3", tmp, s3_server) as target:
        target.env.update({**_gitlab_mode(gitlab), "MLFLOW_TRACKING_TOKEN": USER_TOKEN})
        source_uri = gitlab.tracking_uri(SOURCE_PROJECT)
        proc = target.start_import(source_uri, "--project", str(PROJECT), "--workers", "1")
        try:
            wait_for_a_finished_run(target.backend_store_uri, proc)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
        assert done_runs(target.backend_store_uri) < 4

        resumed = target.run_import(source_uri, "--project", str(PROJECT))
        assert "resumed" in resumed.stdout and "conflicts: 0" in resumed.stdout, resumed.stdout
        with run_mltracker(tmp, target.backend_store_uri, target.artifacts_destination, extra_env=target.env) as live:
            os.environ["MLFLOW_TRACKING_TOKEN"] = USER_TOKEN
            try:
                got = snapshot(f"{live.url}/projects/{PROJECT}", EXPERIMENTS, with_models=False)
            finally:
                del os.environ["MLFLOW_TRACKING_TOKEN"]
        _assert_like_source(expected, got, logged)


def _assert_like_source(expected: dict, got: dict, logged: dict) -> None:
    """Every active run as on the source, short of what GitLab's API does not carry."""
    active = {rid: run for rid, run in expected["runs"].items() if run["lifecycle_stage"] == "active"}
    assert logged["deleted"] not in got["runs"]
    assert sorted(got["runs"]) == sorted(active)
    for run_id, want in active.items():
        for field, value in want.items():
            if field in NOT_IN_GITLAB:
                continue
            if field == "tags":
                value = {k: v for k, v in value.items() if not k.startswith("gitlab.")}
                got_value = {k: v for k, v in got["runs"][run_id]["tags"].items() if not k.startswith("gitlab.")}
            else:
                got_value = got["runs"][run_id][field]
            assert got_value == value, f"run {want['run_name']}: {field}"
