"""The auth cache: a job logging many metrics does not call GitLab for each request."""
from __future__ import annotations

import time

import pytest

from tests.fakes.gitlab_support import DEVELOPER, gitlab_env
from tests.conftest import run_mltracker

WORKERS = 2


@pytest.fixture(scope="module")
def long_ttl_server(fake_gitlab, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gitlab-cache")
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts"),
                       extra_env=gitlab_env(fake_gitlab, ttl=60), workers=WORKERS) as server:
        yield server


def test_a_job_logging_many_metrics_calls_gitlab_a_bounded_number_of_times(long_ttl_server, scenario, monkeypatch):
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    user = scenario.user("busy")
    project = scenario.project(members={user: DEVELOPER})
    job = scenario.job(project, user)
    scenario.fake.clear_requests()
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", job.token)
    client = MlflowClient(tracking_uri=f"{long_ttl_server.url}/projects/{project}")
    run = client.create_run("0")
    for step in range(200):
        client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
    now = int(time.time() * 1000)
    for batch in range(10):
        client.log_batch(run.info.run_id, metrics=[
            Metric("acc", batch * 100 + i, now, batch * 100 + i) for i in range(100)
        ])
    client.set_terminated(run.info.run_id)
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 200

    calls = scenario.fake.requests()
    identity_calls = [c for c in calls if c["path"] in ("/api/v4/job", "/api/v4/user") and c["token"] == job.token]
    role_calls = [c for c in calls if c["path"].startswith(f"/api/v4/projects/{project}/members/")]
    # Each worker process asks once per TTL (concurrent misses wait for the first answer).
    assert 1 <= len(identity_calls) <= WORKERS
    assert 1 <= len(role_calls) <= WORKERS
    assert len(calls) <= 4 * WORKERS, calls  # + the merge request lookup for the link
    assert not any(c["path"] == "/api/v4/user" for c in identity_calls)  # glcbt- goes straight to /job
