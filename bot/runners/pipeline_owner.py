"""Which merge request a pipeline reports to — only the one it belongs to, as GitLab's API says.

- a merge request pipeline (GitLab's ref `refs/merge-requests/<iid>/head`, `/merge` or `/train`):
  that merge request;
- a branch pipeline: the open merge request whose source branch is the pipeline's branch in the
  pipeline's own project (so a fork's branch of the same name is another merge request's);
- anything else — a pipeline on a target branch, a tag — belongs to no merge request.
"""
from __future__ import annotations

import re

from mltracker.bot.context import BotContext
from mltracker.bot.events import PipelineFinished
from mltracker.bot.gitlab_port import Pipeline

MERGE_REQUEST_REF = re.compile(r"^refs/merge-requests/(\d+)/(?:head|merge|train)$")


def merge_request_iid_of_ref(ref: str) -> int | None:
    match = MERGE_REQUEST_REF.match(ref or "")
    return int(match.group(1)) if match else None


def merge_request_of(ctx: BotContext, event: PipelineFinished, pipeline: Pipeline):
    """The MergeRequestRef the pipeline reports to, or None."""
    iid = merge_request_iid_of_ref(pipeline.ref)
    if iid is not None:
        # The merge request lives in the target project; a fork's pipeline names it in the payload.
        project_id = event.merge_request_project_id if event.merge_request_iid == iid else None
        mr = ctx.gitlab.get_merge_request(project_id or pipeline.project_id, iid)
        involved = {_int(mr.raw.get("source_project_id")), _int(mr.raw.get("target_project_id")),
                    _int(mr.raw.get("project_id"))}
        return mr if pipeline.project_id in involved else None
    return ctx.gitlab.open_merge_request_for(pipeline.project_id, pipeline.sha, pipeline.ref)


def merge_request_project_id(mr, default: int) -> int:
    """The project holding the merge request (its target project)."""
    return _int(mr.raw.get("project_id")) or _int(mr.raw.get("target_project_id")) or default


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
