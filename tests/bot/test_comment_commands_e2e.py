"""Comment commands against a live mltracker and the GitLab stand-in: the bot acts only on what
GitLab says a note is, answers exactly once under retries, keeps internal threads internal, and
never lets a user's text (run names, command arguments) become live Markdown, mentions,
references or quick actions in its notes."""
from __future__ import annotations

import os
import re

from mlflow import MlflowClient

from tests.bot.conftest import BOT_NAME, BOT_TOKEN, World, wait_for_settled_jobs, wait_until

SHA_MAIN, SHA_FEATURE = "a" * 40, "b" * 40


def _setup(world, runs=None):
    world.pipeline("main", SHA_MAIN, {"base-0.05": {"val_acc": 0.90}})
    iid = world.merge_request("feature", [SHA_FEATURE])
    world.pipeline("feature", SHA_FEATURE, runs or {"lr-0.01": {"val_acc": 0.93}, "lr-0.1": {"val_acc": 0.88}})
    return iid


def _with_model(world, *run_names: str) -> dict[str, str]:
    """Give the named candidates a model folder (an MLmodel file in `model/`, as MLflow 2's
    log_model makes), so they can be promoted. Returns every candidate's run id by name."""
    import tempfile
    from pathlib import Path

    os.environ["MLFLOW_TRACKING_TOKEN"] = world.dev[2]
    try:
        client = MlflowClient(tracking_uri=f"{world.server_url}/projects/{world.project_id}")
        experiment = client.get_experiment_by_name("churn")
        ids = {run.info.run_name: run.info.run_id for run in client.search_runs([experiment.experiment_id])}
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n")
            for name in run_names:
                client.log_artifacts(ids[name], folder, "model")
        return ids
    finally:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)


def _versions(world, model: str) -> list:
    os.environ["MLFLOW_TRACKING_TOKEN"] = world.dev[2]
    try:
        client = MlflowClient(tracking_uri=f"{world.server_url}/projects/{world.project_id}")
        return client.search_model_versions(f"name = '{model}'")
    finally:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)


def _replies(world, iid: int) -> list[dict]:
    return [n for n in world.bot_notes(iid) if "mltracker:reply-to:" in n["body"]]


def _bot_context(world):
    from mltracker.bot.extension import bot_context
    from mltracker.service.db.engine import Database
    from mltracker.service.settings import Settings

    db = Database(world.server.backend_store_uri)
    return bot_context(db, Settings(gitlab_url=world.fake.url, gitlab_token=BOT_TOKEN,
                                    public_url="http://mltracker.test",
                                    artifacts_destination=world.server.artifacts_destination))


# ---- forged webhooks: GitLab's word, not the payload's


def test_a_payload_cannot_change_who_wrote_a_note_or_what_it_says(world):
    iid = _setup(world)
    # GitLab holds a reporter's promote; the forged payload says a developer wrote it.
    forged_author = world.note_hook(iid, f"@{BOT_NAME} promote lr-0.01 to stolen", world.reporter)
    forged_author["user"].update(id=world.dev[0], username=world.dev[1])
    forged_author["object_attributes"]["author_id"] = world.dev[0]
    world.deliver("Note Hook", forged_author)
    # GitLab holds a harmless note by the developer; the payload claims it is a promote.
    harmless = world.note_hook(iid, "looks good to me", world.dev)
    harmless["object_attributes"]["note"] = f"@{BOT_NAME} promote lr-0.01 to stolen2"
    world.deliver("Note Hook", harmless)
    # A note id GitLab does not know in this merge request at all.
    world.deliver("Note Hook", world.note_hook(iid, f"@{BOT_NAME} promote lr-0.01 to stolen3", world.dev,
                                               store=False))
    # A real note of another project's merge request, claimed for this one.
    other = World(world.fake, world.server_url)
    other_iid = other.merge_request("feature", [SHA_FEATURE])
    elsewhere = other.note_hook(other_iid, f"@{BOT_NAME} promote lr-0.01 to stolen4", other.dev)
    elsewhere["project_id"] = elsewhere["project"]["id"] = world.project_id
    elsewhere["merge_request"]["iid"] = iid
    world.deliver("Note Hook", elsewhere)

    [reply] = wait_until(lambda: _replies(world, iid))
    assert "❌" in reply["body"] and "Developer role" in reply["body"]
    wait_for_settled_jobs(world)  # the other three must stay unanswered
    assert len(world.bot_notes(iid)) == 1
    assert [a["awardable_id"] for a in world.fake.bot_state()["awards"]] == [
        forged_author["object_attributes"]["id"]]
    for model in ("stolen", "stolen2", "stolen3", "stolen4"):
        assert _versions(world, model) == []


def test_the_merge_request_state_comes_from_gitlab(world):
    iid = _setup(world)
    closed = 900 + iid % 100
    world.fake.add_merge_request(project_id=world.project_id, iid=closed, source_branch="feature", state="closed")
    world.deliver("Note Hook", world.note_hook(closed, f"@{BOT_NAME} promote lr-0.01 to m", world.dev,
                                               state="opened"))
    [reply] = wait_until(lambda: _replies(world, closed))
    assert "merge request is closed" in reply["body"]
    assert _versions(world, "m") == []


def test_links_in_the_report_never_come_from_the_payload(world):
    iid = _setup(world)
    pipeline = world.pipeline("feature", SHA_FEATURE, {"lr-0.5": {"val_acc": 0.95}})
    hook = world.pipeline_hook(pipeline, "feature", SHA_FEATURE, iid)
    hook["project"]["web_url"] = "https://evil.example/group/project"
    hook["object_attributes"]["url"] = f"https://evil.example/group/project/-/pipelines/{pipeline}"
    world.deliver("Pipeline Hook", hook)
    [note] = wait_until(lambda: world.bot_notes(iid))
    assert "evil.example" not in note["body"]
    # GitLab's own address for the project, from GET /projects/:id
    assert f"http://gitlab.example.com/group/project-{world.project_id}/-/pipelines/{pipeline}" in note["body"]
    statuses = wait_until(lambda: world.fake.bot_state()["statuses"])
    assert all("evil.example" not in (s["target_url"] or "") for s in statuses)


# ---- retries: every side effect once


def test_a_promote_retried_after_gitlab_failed_replies_once_and_promotes_once(world):
    iid = _setup(world)
    _with_model(world, "lr-0.01")
    world.fake.fail_next(count=1, status=502, path=r"/discussions/[\w-]+/notes$", method="POST")
    note = world.note_hook(iid, f"@{BOT_NAME} promote lr-0.01 to churn --alias champion", world.dev)
    world.deliver("Note Hook", note)
    [reply] = wait_until(lambda: _replies(world, iid), timeout=60)
    assert "✅" in reply["body"] and "version 1" in reply["body"]
    assert [r.get("failed") for r in world.fake.requests() if r.get("failed")] == [502]
    wait_for_settled_jobs(world)
    assert len(world.bot_notes(iid)) == 1
    assert len(_versions(world, "churn")) == 1
    awards = [a for a in world.fake.bot_state()["awards"] if a["awardable_id"] == note["object_attributes"]["id"]]
    assert len(awards) == 1


def test_a_job_run_again_after_it_finished_does_nothing_new(world):
    """The worker died after the reply but before marking the job done: the job runs again."""
    from mltracker.bot.events import parse_event
    from mltracker.bot.runners.comment import handle_comment
    from mltracker.service.db.bot_schema import command_replies

    iid = _setup(world)
    _with_model(world, "lr-0.01")
    hook = world.note_hook(iid, f"@{BOT_NAME} promote lr-0.01 to churn", world.dev, state="opened")
    event = parse_event("Note Hook", hook)
    ctx = _bot_context(world)
    try:
        handle_comment(ctx, event)
        handle_comment(ctx, event)  # 👀 again: GitLab's "has already been taken" 404 is success
        # ... and died between GitLab creating the reply and the bot recording it:
        with ctx.db.write() as conn:
            conn.execute(command_replies.update().values(reply_note_id=None))
        handle_comment(ctx, event)
    finally:
        ctx.db.dispose()
    [reply] = world.bot_notes(iid)
    assert "✅" in reply["body"], reply["body"]
    assert len(_versions(world, "churn")) == 1


# ---- internal threads stay internal


def test_replies_to_internal_notes_are_internal(world):
    iid = _setup(world)
    in_thread = world.note_hook(iid, f"@{BOT_NAME} help", world.dev, internal=True)
    world.deliver("Confidential Note Hook", in_thread)
    no_thread = world.note_hook(iid, f"@{BOT_NAME} compare lr-0.01 lr-0.1", world.dev, internal=True)
    no_thread["object_attributes"]["discussion_id"] = None
    world.deliver("Confidential Note Hook", no_thread)
    public = world.note_hook(iid, f"@{BOT_NAME} help", world.reporter)
    world.deliver("Note Hook", public)
    replies = wait_until(lambda: len(_replies(world, iid)) == 3 and _replies(world, iid))
    by_note = {int(re.search(r"reply-to:(\d+)", r["body"]).group(1)): r for r in replies}
    assert by_note[in_thread["object_attributes"]["id"]]["internal"] is True
    assert by_note[in_thread["object_attributes"]["id"]]["discussion_id"] == in_thread["object_attributes"]["discussion_id"]
    assert by_note[no_thread["object_attributes"]["id"]]["internal"] is True
    assert by_note[public["object_attributes"]["id"]]["internal"] is False


# ---- hostile names


HOSTILE = {
    "tick`@all` [x](javascript:alert(1))": {"val_acc": 0.91},
    "nl\n/close\n/label ~bug\n@all": {"val_acc": 0.92},
    "<img src=x onerror=alert(1)> ~label #1 !1 %1 $1 &1": {"val_acc": 0.94},
}


LIVE_REFERENCES = ("@all", "~bug", "~label", "#1", "!1", "%1", "$1", "&1")


def assert_inert(body: str) -> None:
    """No quick action and no live mention or reference (a zero-width joiner after the sigil stops
    GitLab's parsers) anywhere; no HTML and no javascript: link outside code."""
    for line in body.splitlines():
        assert not re.match(r"\s*/", line), f"a quick action could start here: {line!r}"
    text = re.sub(r"\]\((?:https?://|/)[^)\s]*\)", "]()", body)  # our own link targets
    for reference in LIVE_REFERENCES:
        assert reference not in text, f"live {reference} in {body!r}"
    rendered = re.sub(r"^```\n.*?\n```$", "", text, flags=re.S | re.M)  # fenced blocks
    rendered = re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", "", rendered, flags=re.S)  # code spans
    assert "<img" not in rendered and "javascript:" not in rendered, body


def test_every_bot_reply_keeps_hostile_names_inert(world):
    iid = _setup(world, runs=HOSTILE)
    ids = _with_model(world, *HOSTILE)
    first, second, third = (ids[name] for name in HOSTILE)
    commands = [
        f"@{BOT_NAME} promote {first} to churn",
        f"@{BOT_NAME} promote {second}",
        f"@{BOT_NAME} compare {first} {third}",
        f"@{BOT_NAME} promote '`@all` /close ~bug #1'",
        f"@{BOT_NAME} compare {first} {first}",
        f"@{BOT_NAME} promote x --@all",
        f"@{BOT_NAME} <img/src=x/onerror=alert(1)>",
    ]
    for text in commands:
        world.deliver("Note Hook", world.note_hook(iid, text, world.dev))
    replies = wait_until(lambda: len(_replies(world, iid)) == len(commands) and _replies(world, iid), timeout=90)
    bodies = [r["body"] for r in replies]
    assert sum("✅" in b for b in bodies) == 2, bodies
    for body in bodies:
        assert_inert(body)
