"""How the bot plugs into mltracker: the webhook blueprint, the job handlers, the worker.

The service finds this through the `mltracker.extensions` entry point, so `service` never
imports `bot` (dependencies point one way).
"""
from __future__ import annotations

import atexit
import logging

from flask import Flask

from mltracker.bot.context import BotContext
from mltracker.bot.events import MergeRequestOpened, PipelineFinished, from_payload
from mltracker.bot.gitlab_port import BotGitLab
from mltracker.bot.runners.comment import handle_comment
from mltracker.bot.runners.pipeline import handle_pipeline
from mltracker.bot.webhook import bp as webhook_bp
from mltracker.service.db.engine import Database
from mltracker.service.jobs.queue import Job
from mltracker.service.jobs.worker import WorkerThread
from mltracker.service.settings import Settings

log = logging.getLogger("mltracker.bot")


def job_handlers(ctx: BotContext) -> dict:
    def pipeline(job: Job) -> None:
        handle_pipeline(ctx, from_payload("pipeline", job.payload))

    def merge_request(job: Job) -> None:
        event: MergeRequestOpened = from_payload("merge_request", job.payload)
        if event.head_pipeline_id is None:
            return
        handle_pipeline(ctx, PipelineFinished(
            project_id=event.project_id, pipeline_id=event.head_pipeline_id, status="head",
            ref=event.ref, sha=event.sha, merge_request_iid=event.merge_request_iid,
            pipeline_url="", project_url=event.project_url,
        ))

    def comment(job: Job) -> None:
        handle_comment(ctx, from_payload("comment", job.payload))

    return {"pipeline": pipeline, "merge_request": merge_request, "comment": comment}


def bot_context(db: Database, settings: Settings) -> BotContext | None:
    if not (settings.gitlab_url and settings.gitlab_token):
        return None
    gitlab = BotGitLab(settings.gitlab_url, settings.gitlab_token,
                       timeout=settings.gitlab_timeout, max_retries=settings.gitlab_max_retries)
    return BotContext(db=db, gitlab=gitlab, settings=settings)


def install(app: Flask, db: Database, settings: Settings, *, start_worker: bool) -> None:
    app.register_blueprint(webhook_bp)
    ctx = bot_context(db, settings)
    if ctx is None:
        log.info("bot disabled: MLTRACKER_GITLAB_URL and MLTRACKER_GITLAB_TOKEN are needed")
        return
    if start_worker:
        worker = WorkerThread(db, job_handlers(ctx))
        worker.start()
        app.extensions["mltracker_worker_wakeup"] = worker.wake
        atexit.register(worker.stop)


def run_worker(db: Database, settings: Settings) -> None:
    """`mltracker worker`: process bot jobs in the foreground until interrupted."""
    ctx = bot_context(db, settings)
    if ctx is None:
        raise SystemExit("mltracker worker needs MLTRACKER_GITLAB_URL and MLTRACKER_GITLAB_TOKEN")
    worker = WorkerThread(db, job_handlers(ctx))
    worker.start()
    try:
        while worker.is_alive():
            worker.join(1.0)
    except KeyboardInterrupt:
        worker.stop()
        worker.join(10)
