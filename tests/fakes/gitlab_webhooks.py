"""GitLab webhook bodies built from GitLab's recorded payloads, filled in for one project, pipeline
and merge request. Used by the bot's tests and by the scale-out benchmark."""
from __future__ import annotations

import json

from tests.fakes.gitlab_server import PAYLOADS

WEBHOOKS = PAYLOADS.parent / "webhooks"


def webhook_payload(name: str) -> dict:
    return json.loads((WEBHOOKS / f"{name}.json").read_text())


def pipeline_hook(project_id: int, pipeline_id: int, ref: str, sha: str, mr_iid: int | None,
                  status: str = "success") -> dict:
    """A Pipeline Hook for a finished pipeline; with `mr_iid`, a merge request pipeline of that MR."""
    body = webhook_payload("pipeline_hook")
    body["project"]["id"] = project_id
    body["project"]["web_url"] = f"http://gitlab.test/group/project{project_id}"
    body["object_attributes"].update(id=pipeline_id, ref=ref, sha=sha, status=status,
                                     url=f"http://gitlab.test/group/project{project_id}/-/pipelines/{pipeline_id}")
    if mr_iid is None:
        body["merge_request"] = None
    else:
        body["merge_request"].update(iid=mr_iid, target_branch="main", source_branch=ref,
                                     source_project_id=project_id, target_project_id=project_id)
    return body
