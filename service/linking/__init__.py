"""CI links: every candidate tied to the job, pipeline, commit, ref and merge request that made it."""
from mltracker.service.linking.links import (
    CiLink,
    JobLink,
    latest_pipeline_on_ref,
    latest_pipeline_runs_on_ref,
    link_of_run,
    links_of_runs,
    record_link,
    runs_of_merge_request,
    runs_of_pipeline,
)

__all__ = [
    "CiLink",
    "JobLink",
    "latest_pipeline_on_ref",
    "latest_pipeline_runs_on_ref",
    "link_of_run",
    "links_of_runs",
    "record_link",
    "runs_of_merge_request",
    "runs_of_pipeline",
]
