"""The pipeline side of the bot against a GitLab stand-in that behaves like GitLab: statuses land on
the pipeline they describe, reports go only to the merge request a pipeline belongs to, refusals
fail fast, re-runs refresh, retries repeat nothing."""
from __future__ import annotations

import copy
import os

from sqlalchemy import select

from tests.bot.conftest import BOT_TOKEN, new_id, wait_for_settled_jobs, wait_until

SHA_MAIN = "d" * 40
SHA_FEATURE = "e" * 40
MARKER = "<!-- mltracker:report -->"


def log_candidates(world, pipeline_id: int, ref: str, sha: str, runs: dict[str, float]) -> int:
    """One more CI job of an existing pipeline logs candidates with its job token (a retried job
    is a new job of the same pipeline)."""
    from mlflow import MlflowClient

    job_id = new_id()
    token = f"glcbt-job-{job_id}"
    world.fake.add_job(id=job_id, project_id=world.project_id, pipeline_id=pipeline_id, user_id=world.dev[0],
                       ref=ref, sha=sha, status="running")
    world.fake.add_job_token(token=token, job_id=job_id)
    os.environ["MLFLOW_TRACKING_TOKEN"] = token
    try:
        client = MlflowClient(tracking_uri=f"{world.server_url}/projects/{world.project_id}")
        experiment = client.get_experiment_by_name("churn")
        for name, value in runs.items():
            run = client.create_run(experiment.experiment_id, run_name=name)
            client.log_metric(run.info.run_id, "val_acc", value)
            client.set_terminated(run.info.run_id)
    finally:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
    world.fake.set_job_status(job_id=job_id, status="success")
    return job_id


def merge_request_pipeline(world, runs: dict, sha: str = SHA_FEATURE):
    """A merge request and a merge request pipeline of it, as GitLab records one: its ref is
    `refs/merge-requests/<iid>/head`, its source `merge_request_event`."""
    world.pipeline("main", SHA_MAIN, {"base-0.05": {"val_acc": 0.90}})
    iid = world.merge_request("feature", [sha])
    pipeline = world.pipeline("feature", sha, runs)
    world.fake.add_pipeline(id=pipeline, project_id=world.project_id, sha=sha,
                            ref=f"refs/merge-requests/{iid}/head", source="merge_request_event")
    return iid, pipeline


def statuses(world, sha: str) -> list[dict]:
    return [s for s in world.fake.bot_state()["statuses"] if s["sha"] == sha]


def test_eight_candidates_get_their_report_and_a_status_on_their_own_merge_request_pipeline(world):
    runs = {f"candidate-with-a-long-name-{i:02d}": {"val_acc": 0.80 + i / 100} for i in range(8)}
    iid, pipeline = merge_request_pipeline(world, runs)
    # GitLab's pipeline hook carries the source branch as `ref` for a merge request pipeline
    world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid))

    [note] = wait_until(lambda: world.bot_notes(iid))
    assert all(name in note["body"] for name in runs)
    [status] = wait_until(lambda: statuses(world, SHA_FEATURE))
    assert status["pipeline_id"] == pipeline and status["pipeline_source"] == "merge_request_event"
    assert status["ref"] == f"refs/merge-requests/{iid}/head"
    assert status["target_url"] == f"http://mltracker.test/projects/{world.project_id}/pipelines/{pipeline}?against=main"
    assert f"/projects/{world.project_id}/pipelines/{pipeline}?against=main)" in note["body"]


def test_a_target_branch_pipeline_never_reports_into_a_merge_request(world):
    world.pipeline("main", SHA_MAIN, {"base-0.05": {"val_acc": 0.90}})
    iid = world.merge_request("feature", [SHA_MAIN, SHA_FEATURE])  # the MR's history holds main's commit
    main_pipeline = world.pipeline("main", SHA_MAIN, {"base-0.06": {"val_acc": 0.91}})
    world.deliver("Pipeline Hook", world.pipeline_hook(main_pipeline, "main", SHA_MAIN, None))

    [status] = wait_until(lambda: [s for s in statuses(world, SHA_MAIN) if s["pipeline_id"] == main_pipeline])
    assert status["ref"] == "main"
    assert world.bot_notes(iid) == []


def test_a_branch_pipeline_reports_only_to_the_merge_request_from_its_own_project(world):
    world.pipeline("main", SHA_MAIN, {"base-0.05": {"val_acc": 0.90}})
    fork_iid = world.merge_request("feature", [SHA_FEATURE])
    world.fake.set_merge_request_source_project(project_id=world.project_id, iid=fork_iid,
                                                source_project_id=world.project_id + 500_000)
    pipeline = world.pipeline("feature", SHA_FEATURE, {"lr-0.01": {"val_acc": 0.93}})
    world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, None))

    wait_until(lambda: [s for s in statuses(world, SHA_FEATURE) if s["pipeline_id"] == pipeline])
    assert world.bot_notes(fork_iid) == []  # the same branch name in a fork is another MR's


def test_a_refused_status_fails_the_job_at_once_and_says_why(world):
    iid, pipeline = merge_request_pipeline(world, {"lr-0.01": {"val_acc": 0.93}})
    world.fake.fail_next(count=10, status=422, path=r"/statuses/", method="POST")
    world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid))

    wait_until(lambda: world.bot_notes(iid))
    jobs = wait_until(lambda: [j for j in _jobs(world) if j["status"] == "failed"])
    assert jobs[0]["attempts"] == 1 and "422" in jobs[0]["last_error"]
    wait_for_settled_jobs(world)
    assert len([r for r in world.fake.requests() if r.get("failed") == 422]) == 1  # never retried
    log = world.server.log()
    assert f"GitLab refused POST /projects/{world.project_id}/statuses/{SHA_FEATURE} (HTTP 422)" in log
    assert BOT_TOKEN not in log


def test_rate_limited_status_waits_for_retry_after_without_using_up_attempts(world):
    iid, pipeline = merge_request_pipeline(world, {"lr-0.01": {"val_acc": 0.93}})
    world.fake.rate_limit_next(count=8, retry_after=1, path=r"/statuses/", method="POST")  # > max attempts
    world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid))

    wait_until(lambda: statuses(world, SHA_FEATURE), timeout=60)
    assert len([r for r in world.fake.requests() if r.get("failed") == 429]) == 8
    [job] = wait_until(lambda: [j for j in _jobs(world) if j["status"] == "done"])
    assert job["attempts"] == 1
    assert len(world.bot_notes(iid)) == 1


def test_a_pipeline_finishing_again_refreshes_the_report_and_redeliveries_do_not(world):
    iid, pipeline = merge_request_pipeline(world, {"lr-0.01": {"val_acc": 0.93}})
    first = world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid)
    assert world.deliver("Pipeline Hook", first, key="delivery-1").json()["status"] == "queued"
    [note] = wait_until(lambda: world.bot_notes(iid))
    assert "lr-0.02" not in note["body"]

    log_candidates(world, pipeline, "feature", SHA_FEATURE, {"lr-0.02": 0.95})  # a retried job
    again = copy.deepcopy(first)
    again["object_attributes"]["finished_at"] = "2016-08-12 16:01:02 UTC"
    again["builds"][0]["id"] = new_id()
    assert world.deliver("Pipeline Hook", again, key="delivery-2").json()["status"] == "queued"
    assert world.deliver("Pipeline Hook", again, key="delivery-2").json()["status"] == "duplicate"

    [edited] = wait_until(lambda: [n for n in world.bot_notes(iid) if "`lr-0.02`" in n["body"]])
    assert edited["id"] == note["id"]
    assert "<details>" not in edited["body"]  # the pipeline's own earlier verdict is replaced, not history


def test_without_delivery_headers_the_same_finish_is_one_job_and_a_new_finish_another(world):
    import requests

    iid, pipeline = merge_request_pipeline(world, {"lr-0.01": {"val_acc": 0.93}})
    hook = world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid)
    url, headers = f"{world.server_url}/webhooks/gitlab", {"X-Gitlab-Event": "Pipeline Hook",
                                                           "X-Gitlab-Token": "webhook-secret-for-tests"}
    answers = [requests.post(url, json=hook, headers=headers, timeout=10).json()["status"] for _ in range(2)]
    hook["object_attributes"]["finished_at"] = "2016-08-12 17:00:00 UTC"
    answers.append(requests.post(url, json=hook, headers=headers, timeout=10).json()["status"])
    assert answers == ["queued", "duplicate", "queued"]


def test_plots_are_uploaded_once_per_content_through_retries_and_reruns(world):
    iid, pipeline = merge_request_pipeline(world, {"lr-0.01": {"val_acc": 0.93}, "lr-0.1": {"val_acc": 0.88}})
    world.fake.fail_next(count=2, status=502, path=r"/merge_requests/\d+/notes$", method="POST")
    hook = world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid)
    world.deliver("Pipeline Hook", hook)
    [note] = wait_until(lambda: world.bot_notes(iid), timeout=60)
    uploads = world.fake.bot_state()["uploads"]
    assert len(uploads) >= 2 and all(url in note["body"] for url in uploads)

    world.deliver("Pipeline Hook", hook)  # the same pipeline reported again: a new delivery
    wait_until(lambda: len([j for j in _jobs(world) if j["status"] == "done"]) == 2)
    assert world.fake.bot_state()["uploads"] == uploads


def _jobs(world) -> list[dict]:
    from mltracker.service.db.engine import Database
    from mltracker.service.db.jobs_schema import jobs

    db = Database(world.server.backend_store_uri)
    try:
        with db.read() as conn:
            rows = conn.execute(select(jobs).where(jobs.c.project_id == world.project_id, jobs.c.kind == "pipeline"))
            return [dict(r._mapping) for r in rows]
    finally:
        db.dispose()
