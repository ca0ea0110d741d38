"""Registering mltracker's webhook on a GitLab project through GitLab's hooks API
(doc/api/project_webhooks.md): the bot's token needs the Maintainer role (or admin) there.

The hook sends exactly what the bot acts on: pipeline, merge request, comment and internal-comment
events (internal notes arrive as "Confidential Note Hook" only when `confidential_note_events` is
on); no push events, which GitLab would otherwise enable by default.
"""
from __future__ import annotations

from mltracker.service.gitlab.client import GitLabAdapter, GitLabNotVisible
from mltracker.service.gitlab.client import translated

HOOK_NAME = "mltracker"
EVENTS = {
    "push_events": False,
    "tag_push_events": False,
    "issues_events": False,
    "confidential_issues_events": False,
    "merge_requests_events": True,
    "note_events": True,
    "confidential_note_events": True,
    "pipeline_events": True,
    "job_events": False,
    "wiki_page_events": False,
    "deployment_events": False,
    "releases_events": False,
}


def register_hook(gitlab: GitLabAdapter, project_id: int, url: str, secret: str, hook_id: int | None = None) -> int:
    """Point the project's mltracker hook at `url` with `secret`: the hook registered earlier
    (`hook_id`) is updated in place, else (or if it was deleted meanwhile) a new one is added.
    Returns the hook's id. GitLabForbidden / GitLabNotVisible when the bot may not."""
    data = {"url": url, "name": HOOK_NAME, "token": secret, "enable_ssl_verification": url.startswith("https://"),
            **EVENTS}
    client = gitlab.client()
    if hook_id is not None:
        try:
            with translated("PUT /projects/:id/hooks/:hook_id"):
                answer = client.http_put(f"/projects/{project_id}/hooks/{hook_id}", post_data=data)
            return int(answer["id"])
        except GitLabNotVisible:
            pass  # removed in GitLab since: add it again
    with translated("POST /projects/:id/hooks"):
        answer = client.http_post(f"/projects/{project_id}/hooks", post_data=data)
    return int(answer["id"])
