"""From a GitLab job to a JobLink: pipeline, commit, ref, merge request, user (GitLab calls)."""
from __future__ import annotations

import logging
import re

from mltracker.service.errors import MlflowError
from mltracker.service.gitlab import GitLabAdapter, GitLabForbidden, GitLabJob, GitLabNotVisible, GitLabTokenRejected, GitLabUnavailable
from mltracker.service.linking.links import JobLink

log = logging.getLogger("mltracker.linking")

MERGE_REQUEST_REF = re.compile(r"^refs/merge-requests/(\d+)/(?:head|merge|train)$")


def _unavailable() -> MlflowError:
    return MlflowError("GitLab is unavailable, so the candidate cannot be linked to its CI job; retry later.",
                       "TEMPORARILY_UNAVAILABLE")


def link_for_job(gitlab: GitLabAdapter, project_id: int, job: GitLabJob, user_token: str | None) -> JobLink:
    """The link of a candidate made by `job`. The merge request comes from the job's ref when the
    pipeline is a merge request pipeline (refs/merge-requests/<iid>/head), otherwise from the
    commit → merge requests lookup (the open MR whose source branch is the job's ref). Lookups use
    the bot token when configured, else the caller's own token if it is a user token; a CI job token
    cannot call those APIs, so without a bot token such a candidate is linked without its MR."""
    ref, iid = job.ref, None
    token_ok = gitlab.has_bot_token or user_token is not None
    token = None if gitlab.has_bot_token else user_token
    match = MERGE_REQUEST_REF.match(job.ref)
    try:
        if match:
            iid = int(match.group(1))
            if token_ok:
                try:
                    ref = gitlab.merge_request(project_id, iid, token).source_branch or ref
                except (GitLabNotVisible, GitLabForbidden, GitLabTokenRejected):
                    pass
        elif token_ok and job.sha:
            try:
                candidates = [
                    mr for mr in gitlab.merge_requests_for_commit(project_id, job.sha, token)
                    if mr.state == "opened" and mr.source_branch == job.ref
                ]
            except (GitLabNotVisible, GitLabForbidden, GitLabTokenRejected):
                candidates = []
            if candidates:
                iid = max(mr.iid for mr in candidates)
    except GitLabUnavailable:
        raise _unavailable() from None
    return JobLink(
        job_id=job.id, pipeline_id=job.pipeline_id, commit_sha=job.sha, ref=ref,
        merge_request_iid=iid, user=job.user.username if job.user else "",
    )


def verified_job(gitlab: GitLabAdapter, project_id: int, job_id: int, user_token: str | None) -> GitLabJob:
    """The job with this id, checked to be a job of the project (GET /projects/:id/jobs/:job_id),
    with the bot token or else the caller's user token."""
    if not gitlab.has_bot_token and user_token is None:
        raise MlflowError(
            f"Cannot verify that job {job_id} belongs to project {project_id}: the server has no GitLab "
            "token (MLTRACKER_GITLAB_TOKEN) and a CI job token cannot read other jobs.",
            "INVALID_PARAMETER_VALUE",
        )
    try:
        return gitlab.project_job(project_id, job_id, None if gitlab.has_bot_token else user_token)
    except (GitLabNotVisible, GitLabForbidden, GitLabTokenRejected):
        raise MlflowError(f"Job {job_id} is not a job of project {project_id}.", "INVALID_PARAMETER_VALUE") from None
    except GitLabUnavailable:
        raise _unavailable() from None
