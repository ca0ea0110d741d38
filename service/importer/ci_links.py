"""`gitlab.*` tags of imported candidates become CI links (the ci_links table the bot, reports and
quality gate query), as if the candidate had been logged to mltracker by its job.

In GitLab mode the job named by `gitlab.CI_JOB_ID` is checked against the project through GitLab's
API (the bot token, else the source token when it is a GitLab user token), which also tells the
pipeline, commit, ref and merge request. In local mode there is no GitLab to ask: a candidate is
linked only when its own tags name the job, pipeline, commit and ref.
"""
from __future__ import annotations

from mltracker.service.errors import MlflowError
from mltracker.service.linking.links import (
    TAG_COMMIT_SHA,
    TAG_JOB_ID,
    TAG_MERGE_REQUEST_IID,
    TAG_PIPELINE_ID,
    TAG_REF_NAME,
    TAG_USER,
    JobLink,
)
from mltracker.service.settings import Settings


class CiLinker:
    def __init__(self, settings: Settings, source_token: str | None):
        self.adapter = None
        self.user_token = None
        if settings.gitlab_url:
            from mltracker.service.gitlab import GitLabAdapter

            self.adapter = GitLabAdapter(settings.gitlab_url, settings.gitlab_token)
            self.user_token = None if self.adapter.has_bot_token else source_token

    def link_for(self, project_id: int, run_tags: dict[str, str]) -> JobLink | None:
        """The link for these tags, or None. Raises MlflowError when GitLab refuses the job."""
        raw_job = (run_tags.get(TAG_JOB_ID) or "").strip()
        if not raw_job.isdigit():
            return None
        if self.adapter is not None:
            from mltracker.service.linking.resolve import link_for_job, verified_job

            job = verified_job(self.adapter, project_id, int(raw_job), self.user_token)
            return link_for_job(self.adapter, project_id, job, self.user_token)
        pipeline = (run_tags.get(TAG_PIPELINE_ID) or "").strip()
        sha, ref = run_tags.get(TAG_COMMIT_SHA), run_tags.get(TAG_REF_NAME)
        if not (pipeline.isdigit() and sha and ref):
            return None
        mr = (run_tags.get(TAG_MERGE_REQUEST_IID) or "").strip()
        return JobLink(job_id=int(raw_job), pipeline_id=int(pipeline), commit_sha=sha, ref=ref,
                       merge_request_iid=int(mr) if mr.isdigit() else None, user=run_tags.get(TAG_USER) or "")


__all__ = ["CiLinker", "MlflowError"]
