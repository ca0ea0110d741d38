"""A finished pipeline → one report comment on its merge request (kept up to date) and a commit status
on that very pipeline.

Every side effect is safe to repeat when the job is retried: plots are uploaded once per content and
merge request, the report comment is found by its marker and edited, the status is set again to the
same value on the same pipeline.
"""
from __future__ import annotations

import logging
import re

from mltracker.bot.context import BotContext
from mltracker.bot.events import PipelineFinished
from mltracker.bot.gitlab_port import Pipeline
from mltracker.bot.runners.pipeline_owner import merge_request_of, merge_request_project_id
from mltracker.reports import REPORT_MARKER, extract_history, render_markdown
from mltracker.reports.escaping import clean
from mltracker.reports.plots import render_plots
from mltracker.service.gitlab.limits import COMMIT_STATUS_DESCRIPTION_MAX
from mltracker.service.jobs.leases import LeaseBusy, held
from mltracker.service.jobs.uploads import upload_once
from mltracker.service.jobs.worker import RetryAfter
from mltracker.service.linking.links import runs_of_pipeline
from mltracker.service.report_data.pipeline_report import comparison_report

log = logging.getLogger("mltracker.bot")

# A busy report is looked at again this often (sooner when its lease runs out sooner).
LEASE_POLL_MS = 2_000


def handle_pipeline(ctx: BotContext, event: PipelineFinished) -> None:
    with ctx.db.read() as conn:
        run_ids = runs_of_pipeline(conn, event.project_id, event.pipeline_id)
    if not run_ids:
        log.info("pipeline %s of project %s produced no candidates", event.pipeline_id, event.project_id)
        return
    pipeline = ctx.gitlab.pipeline(event.project_id, event.pipeline_id)
    mr = merge_request_of(ctx, event, pipeline)
    links = ctx.links(event.project_id, event.project_url or _project_url(event.pipeline_url))
    with ctx.db.read() as conn:
        report = comparison_report(
            conn, event.project_id, run_ids,
            target_branch=mr.target_branch if mr else None, links=links,
            exclude_pipeline_id=event.pipeline_id,
        )
    if mr is not None:
        mr_project = merge_request_project_id(mr, event.project_id)
        try:
            # One writer per merge request's comment, or two pipelines finishing together would
            # each find no comment and post one.
            with held(ctx.db, f"report:{mr_project}:{mr.iid}"):
                _upsert_report_note(ctx, event, mr_project, mr.iid, report, links, mr.target_branch)
        except LeaseBusy as busy:
            raise RetryAfter(
                f"the report of !{mr.iid} is being written by another job",
                min(max(busy.expires_in_ms, 100), LEASE_POLL_MS),
            ) from None
    set_pipeline_status(ctx, pipeline, report, links.pipeline_page(pipeline.id, mr.target_branch if mr else None))


def set_pipeline_status(ctx: BotContext, pipeline: Pipeline, report, page_url: str) -> None:
    """The verdict as a commit status on this pipeline (by id and its real ref, so a merge request
    pipeline gets it rather than a new external pipeline), linking mltracker's page of the pipeline."""
    verdicts = [e.verdict for e in report.experiments]
    state = "failed" if any(v.kind == "regresses" for v in verdicts) else "success"
    ctx.gitlab.set_commit_status(
        pipeline.project_id, pipeline.sha, state, status_description(verdicts),
        page_url, ref=pipeline.ref, pipeline_id=pipeline.id,
    )


def status_description(verdicts) -> str:
    """One plain line (GitLab's 255-character description) with run and metric names made inert."""
    return clean("; ".join(v.text for v in verdicts), COMMIT_STATUS_DESCRIPTION_MAX)


def _upsert_report_note(ctx: BotContext, event: PipelineFinished, mr_project: int, iid: int, report, links,
                        target_branch: str) -> None:
    plot_urls = {
        name: upload_once(ctx.db, mr_project, iid, name, png,
                          lambda n, data: ctx.gitlab.upload(mr_project, n, data))
        for name, png in render_plots(report).items()
    }
    existing = find_report_note(ctx, mr_project, iid)
    history = history_without(extract_history(existing.body), event.pipeline_id) if existing else []
    body = render_markdown(
        report, plot_urls, history, pipeline=f"#{event.pipeline_id}",
        pipeline_url=event.pipeline_url or links.pipeline(event.pipeline_id),
    )
    body += f"\n[This pipeline's candidates in mltracker]({links.pipeline_page(event.pipeline_id, target_branch)})\n"
    if existing is None:
        ctx.gitlab.create_note(mr_project, iid, body)
    elif existing.body != body:
        ctx.gitlab.update_note(mr_project, iid, existing.id, body)


def history_without(lines: list[str], pipeline_id: int) -> list[str]:
    """Earlier verdicts, less those of this pipeline: a pipeline reported again replaces its own."""
    own = re.compile(rf"\*\*Pipeline \[?#[\u200b-\u200d\u2060]?{int(pipeline_id)}\b")
    return [line for line in lines if not own.search(line)]


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
