"""A finished pipeline → one report comment on its merge request (kept up to date) and a commit status."""
from __future__ import annotations

import logging
import uuid

from mltracker.bot.context import BotContext
from mltracker.bot.events import PipelineFinished
from mltracker.reports import REPORT_MARKER, extract_history, render_markdown
from mltracker.reports.plots import render_plots
from mltracker.service.jobs.leases import LeaseBusy, held
from mltracker.service.jobs.worker import TransientError
from mltracker.service.linking.links import runs_of_pipeline
from mltracker.service.reporting.pipeline_report import comparison_report

log = logging.getLogger("mltracker.bot")


def handle_pipeline(ctx: BotContext, event: PipelineFinished) -> None:
    with ctx.db.read() as conn:
        run_ids = runs_of_pipeline(conn, event.project_id, event.pipeline_id)
    if not run_ids:
        log.info("pipeline %s of project %s produced no candidates", event.pipeline_id, event.project_id)
        return
    mr = (
        ctx.gitlab.get_merge_request(event.project_id, event.merge_request_iid)
        if event.merge_request_iid
        else ctx.gitlab.open_merge_request_for(event.project_id, event.sha, event.ref)
    )
    links = ctx.links(event.project_id, event.project_url or _project_url(event.pipeline_url))
    with ctx.db.read() as conn:
        report = comparison_report(
            conn, event.project_id, run_ids,
            target_branch=mr.target_branch if mr else None, links=links,
            exclude_pipeline_id=event.pipeline_id,
        )
    if mr is not None:
        try:
            # One writer per merge request's comment, or two pipelines finishing together would
            # each find no comment and post one.
            with held(ctx.db, f"report:{event.project_id}:{mr.iid}", uuid.uuid4().hex):
                _upsert_report_note(ctx, event, mr.iid, report, links, run_ids)
        except LeaseBusy:
            raise TransientError(f"the report of !{mr.iid} is being written by another job") from None
    verdicts = [e.verdict for e in report.experiments]
    state = "failed" if any(v.kind == "regresses" for v in verdicts) else "success"
    ctx.gitlab.set_commit_status(
        event.project_id, event.sha, state, "; ".join(v.text for v in verdicts), links.compare(run_ids), ref=event.ref,
    )


def _upsert_report_note(ctx: BotContext, event: PipelineFinished, iid: int, report, links, run_ids) -> None:
    plot_urls = {name: ctx.gitlab.upload(event.project_id, name, png) for name, png in render_plots(report).items()}
    existing = find_report_note(ctx, event.project_id, iid)
    history = extract_history(existing.body) if existing else []
    body = render_markdown(
        report, plot_urls, history, pipeline=f"#{event.pipeline_id}",
        pipeline_url=event.pipeline_url or links.pipeline(event.pipeline_id),
    )
    body += f"\n[Compare these candidates in mltracker]({links.compare(run_ids)})\n"
    if existing:
        ctx.gitlab.update_note(event.project_id, iid, existing.id, body)
    else:
        ctx.gitlab.create_note(event.project_id, iid, body)


def find_report_note(ctx: BotContext, project_id: int, iid: int):
    """The bot's own report comment, found by its hidden marker across every page of notes."""
    for note in ctx.gitlab.merge_request_notes(project_id, iid):
        if not note.system and note.author_username == ctx.bot_username and REPORT_MARKER in note.body:
            return note
    return None


def _project_url(pipeline_url: str) -> str | None:
    """https://gitlab.example.com/group/project/-/pipelines/31 → https://gitlab.example.com/group/project"""
    head, sep, _ = (pipeline_url or "").partition("/-/pipelines/")
    return head if sep else None
