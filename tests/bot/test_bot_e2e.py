"""The merge-request bot end to end: webhooks over HTTP into a live mltracker in GitLab mode,
GitLab played by a fake HTTP server that records what the bot writes."""
from __future__ import annotations

import time

import requests

from tests.bot.conftest import BOT_NAME, SECRET, bot_env, project_jobs, wait_for_settled_jobs, wait_until
from tests.conftest import run_mltracker

SHA_MAIN = "a" * 40
SHA_FEATURE = "b" * 40
SHA_FEATURE_2 = "c" * 40
PNG_MAGIC = "89504e470d0a1a0a"
MARKER = "<!-- mltracker:report -->"


def _baseline_and_feature(world):
    world.pipeline("main", SHA_MAIN, {"base-0.05": {"val_acc": 0.90}})
    iid = world.merge_request("feature", [SHA_FEATURE, SHA_FEATURE_2])
    pipeline = world.pipeline("feature", SHA_FEATURE, {"lr-0.01": {"val_acc": 0.93}, "lr-0.1": {"val_acc": 0.88}})
    return iid, pipeline


def test_pipeline_hook_posts_one_report_with_images_and_a_commit_status(world):
    iid, pipeline = _baseline_and_feature(world)
    response = world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid))
    assert response.status_code == 200 and response.json()["status"] == "queued"

    [note] = wait_until(lambda: world.bot_notes(iid))
    body = note["body"]
    assert body.startswith(MARKER)
    assert "`lr-0.01`" in body and "improves" in body and "`main`" in body
    assert "0.9 → 0.93" in body
    state = world.fake.bot_state()
    images = [url for url in state["uploads"] if url in body]
    assert len(images) >= 2
    assert all(state["upload_heads"][url].startswith(PNG_MAGIC) for url in images)
    status = wait_until(lambda: [s for s in world.fake.bot_state()["statuses"] if s["sha"] == SHA_FEATURE])
    assert status[0]["name"] == "mltracker" and status[0]["status"] == "success"
    assert "lr-0.01" in status[0]["description"]
    assert status[0]["target_url"] == f"http://mltracker.test/projects/{world.project_id}/pipelines/{pipeline}?against=main"


def test_redelivered_hook_does_nothing_twice(world):
    iid, pipeline = _baseline_and_feature(world)
    hook = world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid)
    answers = [world.deliver("Pipeline Hook", hook, key="same-delivery").json()["status"] for _ in range(3)]
    assert answers == ["queued", "duplicate", "duplicate"]
    wait_until(lambda: world.bot_notes(iid))
    wait_for_settled_jobs(world)
    assert len(world.bot_notes(iid)) == 1
    assert len([s for s in world.fake.bot_state()["statuses"] if s["sha"] == SHA_FEATURE]) == 1


def test_next_pipeline_edits_the_same_comment_and_folds_history(world):
    iid, first = _baseline_and_feature(world)
    world.deliver("Pipeline Hook", world.pipeline_hook(first, "feature", SHA_FEATURE, iid))
    [note] = wait_until(lambda: world.bot_notes(iid))
    second = world.pipeline("feature", SHA_FEATURE_2, {"lr-0.02": {"val_acc": 0.95}})
    world.deliver("Pipeline Hook", world.pipeline_hook(second, "feature", SHA_FEATURE_2, iid))
    edited = wait_until(lambda: [n for n in world.bot_notes(iid) if f"/pipelines/{second})" in n["body"]])
    assert len(world.bot_notes(iid)) == 1 and edited[0]["id"] == note["id"]
    body = edited[0]["body"]
    history = body[body.index("<details>"):]
    assert f"/pipelines/{first})" in history and "lr-0.01" in history
    assert "`lr-0.02`" in body[: body.index("<details>")]


def test_branch_pipeline_finds_its_merge_request_through_the_commit(world):
    iid, pipeline = _baseline_and_feature(world)
    world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, None))
    [note] = wait_until(lambda: world.bot_notes(iid))
    assert MARKER in note["body"]


def test_report_found_by_marker_across_pages_of_notes(world):
    iid, first = _baseline_and_feature(world)
    world.deliver("Pipeline Hook", world.pipeline_hook(first, "feature", SHA_FEATURE, iid))
    [report] = wait_until(lambda: world.bot_notes(iid))
    for i in range(120):  # pushes the report onto the first of several pages
        world.fake.add_note(project_id=world.project_id, iid=iid, body=f"chatter {i}", username=world.dev[1])
    world.fake.add_note(project_id=world.project_id, iid=iid, body=f"{MARKER} quoted by a human",
                        username=world.dev[1])
    second = world.pipeline("feature", SHA_FEATURE_2, {"lr-0.03": {"val_acc": 0.96}})
    world.deliver("Pipeline Hook", world.pipeline_hook(second, "feature", SHA_FEATURE_2, iid))
    wait_until(lambda: [n for n in world.bot_notes(iid) if f"/pipelines/{second})" in n["body"]])
    assert [n["id"] for n in world.bot_notes(iid)] == [report["id"]]


def test_gitlab_answering_502_twice_still_delivers_the_comment(world):
    iid, pipeline = _baseline_and_feature(world)
    world.fake.fail_next(count=2, status=502, path=r"/merge_requests/\d+/notes$", method="POST")
    world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid))
    [note] = wait_until(lambda: world.bot_notes(iid), timeout=60)
    assert MARKER in note["body"]
    failed = [r for r in world.fake.requests() if r.get("failed") == 502]
    assert len(failed) == 2


def test_wrong_secret_is_refused_and_nothing_is_stored(world):
    iid, pipeline = _baseline_and_feature(world)
    hook = world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid)
    response = world.deliver("Pipeline Hook", hook, secret="wrong")
    assert response.status_code == 401 and response.json()["error_code"] == "UNAUTHENTICATED"
    assert project_jobs(world, "pipeline") == []  # refused before anything was queued
    assert world.bot_notes(iid) == []
    # the same event with the right secret is new work, not a duplicate: nothing was stored before
    assert world.deliver("Pipeline Hook", hook).json()["status"] == "queued"


def test_malformed_and_unknown_events_are_acknowledged_and_ignored(world):
    url = f"{world.server_url}/webhooks/gitlab"
    headers = {"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Pipeline Hook", "Content-Type": "application/json"}
    assert requests.post(url, data=b"{not json", headers=headers, timeout=10).json()["status"] == "ignored"
    headers["X-Gitlab-Event"] = "Push Hook"
    assert requests.post(url, json={"object_kind": "push"}, headers=headers, timeout=10).json()["status"] == "ignored"


def _log_model_folder(world, run_name: str) -> None:
    """The candidate uploads a model folder (an MLmodel file in `model/`), as MLflow 2's log_model does."""
    import os
    import tempfile
    from pathlib import Path

    from mlflow import MlflowClient

    os.environ["MLFLOW_TRACKING_TOKEN"] = world.dev[2]
    try:
        client = MlflowClient(tracking_uri=f"{world.server_url}/projects/{world.project_id}")
        experiment = client.get_experiment_by_name("churn")
        [run] = client.search_runs([experiment.experiment_id], f"attributes.run_name = '{run_name}'")
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n")
            client.log_artifacts(run.info.run_id, folder, "model")
    finally:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)


def test_promote_of_a_candidate_without_a_model_is_refused_with_the_reason(world):
    iid, _ = _baseline_and_feature(world)
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} promote lr-0.1", world.dev))
    [reply] = wait_until(lambda: world.bot_notes(iid))
    assert "❌" in reply["body"] and "has no model to register" in reply["body"], reply["body"]


def test_promote_by_a_developer_creates_the_version_and_replies(world):
    iid, pipeline = _baseline_and_feature(world)
    _log_model_folder(world, "lr-0.01")
    note = world.note_hook(iid, f"@{BOT_NAME} promote lr-0.01 to churn-model --alias champion", world.dev)
    assert world.deliver("Note Hook", note).json()["status"] == "queued"
    reply = wait_until(lambda: [n for n in world.bot_notes(iid) if "Promoted" in n["body"] or "❌" in n["body"]])
    assert "✅" in reply[0]["body"], reply[0]["body"]
    assert "`churn-model` " in reply[0]["body"] or "`churn-model`]" in reply[0]["body"]
    assert "version 1" in reply[0]["body"] and "alias `champion`" in reply[0]["body"]
    assert reply[0]["discussion_id"] == note["object_attributes"]["discussion_id"]
    awards = world.fake.bot_state()["awards"]
    assert any(a["name"] == "eyes" and a["awardable_id"] == note["object_attributes"]["id"] for a in awards)
    # the registry holds it: a maintainer reads it through the stock client
    from mlflow import MlflowClient
    import os

    os.environ["MLFLOW_TRACKING_TOKEN"] = world.dev[2]
    try:
        client = MlflowClient(tracking_uri=f"{world.server_url}/projects/{world.project_id}")
        version = client.get_model_version_by_alias("churn-model", "champion")
        assert version.version == "1"
        assert client.get_run(version.run_id).info.run_name == "lr-0.01"
    finally:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)


def test_promote_by_a_reporter_is_refused(world):
    iid, _ = _baseline_and_feature(world)
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} promote lr-0.01", world.reporter))
    [reply] = wait_until(lambda: world.bot_notes(iid))
    assert "❌" in reply["body"] and "Developer role" in reply["body"] and "```" in reply["body"]


def test_promote_unknown_and_ambiguous_candidates_and_closed_mr(world):
    iid, _ = _baseline_and_feature(world)
    world.pipeline("feature", SHA_FEATURE_2, {"lr-0.01": {"val_acc": 0.5}})  # a second "lr-0.01"
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} promote nope", world.dev))
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} promote lr-0.01", world.dev))
    closed = 900 + iid % 100
    world.fake.add_merge_request(project_id=world.project_id, iid=closed, source_branch="feature", state="closed")
    world.deliver("Note Hook", world.note_hook(closed, f"@{BOT_NAME} promote lr-0.1", world.dev))
    replies = wait_until(lambda: len(world.bot_notes(iid)) >= 2 and len(world.bot_notes(closed)) >= 1
                         and world.bot_notes(iid) + world.bot_notes(closed))
    bodies = "\n".join(n["body"] for n in replies)
    assert "Unknown candidate: 'nope'" in bodies
    assert "Ambiguous candidate 'lr-0.01'" in bodies
    assert "merge request is closed" in bodies


def test_compare_and_help_and_unknown_command(world):
    iid, _ = _baseline_and_feature(world)
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} compare lr-0.01 lr-0.1", world.dev))
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} help", world.reporter))
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} promte lr-0.01", world.dev))
    replies = wait_until(lambda: len(world.bot_notes(iid)) >= 3 and world.bot_notes(iid))
    bodies = "\n".join(n["body"] for n in replies)
    assert "`lr-0.1`" in bodies and "val_acc" in bodies
    assert f"@{BOT_NAME} promote <candidate>" in bodies
    assert "Did you mean `promote`?" in bodies


def test_notes_not_for_the_bot_are_ignored(world):
    iid, _ = _baseline_and_feature(world)
    bot = (9100, BOT_NAME)
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} help", bot, store=False))
    for text in ("/promote lr-0.01", "nice work"):
        world.deliver("Note Hook", world.note_hook(iid, text, world.dev))
    system = world.note_hook(iid, f"@{BOT_NAME} help", world.dev)
    system["object_attributes"]["system"] = True
    world.deliver("Note Hook", system)
    edited = world.note_hook(iid, f"@{BOT_NAME} help", world.dev)
    edited["object_attributes"]["action"] = "update"
    world.deliver("Note Hook", edited)
    wait_for_settled_jobs(world)
    assert world.bot_notes(iid) == []
    assert world.fake.bot_state()["awards"] == []


def test_work_stored_before_the_ack_survives_a_restart(fake, tmp_path):
    from tests.bot.conftest import World

    db = f"sqlite:///{tmp_path}/mltracker.db"
    with run_mltracker(tmp_path, db, str(tmp_path / "a"), extra_env=bot_env(fake, MLTRACKER_RUN_JOBS_IN_PROCESS="false"),
                       workers=1) as server:
        world = World(fake, server.url)
        iid, pipeline = _baseline_and_feature(world)
        assert world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid)).json()[
            "status"] == "queued"
        world.server = server
        assert [j["status"] for j in project_jobs(world, "pipeline")] == ["queued"]
        assert world.bot_notes(iid) == []  # acknowledged, stored, not processed: now the service dies
    with run_mltracker(tmp_path, db, str(tmp_path / "a"), extra_env=bot_env(fake), workers=1) as server:
        [note] = wait_until(lambda: world.bot_notes(iid))
        assert MARKER in note["body"]


def test_webhook_is_answered_fast_while_gitlab_is_slow_or_down(world):
    iid, pipeline = _baseline_and_feature(world)
    world.fake.set_mode(mode="down")
    started = time.monotonic()
    response = world.deliver("Pipeline Hook", world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid))
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.json()["status"] == "queued"
    assert elapsed < 1.0, elapsed  # GitLab marks slow receivers as failing
    world.fake.set_mode(mode="up")
    wait_until(lambda: world.bot_notes(iid), timeout=60)


def test_two_pipelines_finishing_together_still_make_one_comment(fake, bot_server):
    """Two workers run the two pipelines' jobs at the same moment; GitLab is slow to list notes, so
    both would find no report and post one, were the comment not written by one job at a time."""
    import threading

    from mltracker.bot.extension import bot_context
    from mltracker.bot.runners.pipeline import handle_pipeline
    from mltracker.bot.events import PipelineFinished
    from mltracker.service.db.engine import Database
    from mltracker.service.jobs.worker import TransientError
    from mltracker.service.settings import Settings
    from tests.bot.conftest import BOT_TOKEN, World

    world = World(fake, bot_server.url)
    iid, first = _baseline_and_feature(world)
    second = world.pipeline("feature", SHA_FEATURE_2, {"lr-0.02": {"val_acc": 0.95}})
    fake.delay(seconds=1.5, path=r"/merge_requests/\d+/notes$", method="GET")
    db = Database(bot_server.backend_store_uri)
    ctx = bot_context(db, Settings(gitlab_url=fake.url, gitlab_token=BOT_TOKEN, public_url="http://mltracker.test"))
    outcomes = []

    def run(pipeline_id, sha):
        event = PipelineFinished(world.project_id, pipeline_id, "success", "feature", sha, iid, "",
                                 project_url="http://gitlab.test/group/project")
        for _ in range(10):  # what the job queue does: retry a TransientError later
            try:
                handle_pipeline(ctx, event)
                outcomes.append("done")
                return
            except TransientError:
                outcomes.append("retry")
                time.sleep(0.5)

    threads = [threading.Thread(target=run, args=args) for args in ((first, SHA_FEATURE), (second, SHA_FEATURE_2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.dispose()
    assert outcomes.count("done") == 2 and "retry" in outcomes
    [note] = world.bot_notes(iid)
    assert f"/pipelines/{first})" in note["body"] and f"/pipelines/{second})" in note["body"]
