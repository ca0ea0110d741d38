"""Links to GitLab for a candidate's CI facts (the gitlab.* tags that linking sets).

In local mode there is no GitLab to link to: the values are shown as text.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

CI_TAGS = {
    "pipeline": "gitlab.CI_PIPELINE_ID",
    "job": "gitlab.CI_JOB_ID",
    "merge_request": "gitlab.CI_MERGE_REQUEST_IID",
    "commit": "gitlab.CI_COMMIT_SHA",
    "ref": "gitlab.CI_COMMIT_REF_NAME",
    "user": "gitlab.user",
}


@dataclass(frozen=True)
class CiLinkView:
    kind: str  # pipeline, job, merge_request, commit, ref, user
    text: str
    url: str | None


def ci_links(tags: dict[str, str], gitlab_url: str | None, project_path: str | None) -> dict[str, CiLinkView]:
    """kind -> link for every CI tag present; url only when the GitLab project is known."""
    result = {}
    base = f"{gitlab_url.rstrip('/')}/{quote(project_path, safe='/')}" if gitlab_url and project_path else None
    for kind, tag in CI_TAGS.items():
        value = tags.get(tag)
        if not value:
            continue
        text, url = value, None
        digits = value.isdigit()
        if kind == "pipeline" and digits:
            text, url = f"#{value}", base and f"{base}/-/pipelines/{value}"
        elif kind == "job" and digits:
            text, url = f"#{value}", base and f"{base}/-/jobs/{value}"
        elif kind == "merge_request" and digits:
            text, url = f"!{value}", base and f"{base}/-/merge_requests/{value}"
        elif kind == "commit":
            text = value[:8]
            url = base and f"{base}/-/commit/{quote(value, safe='')}"
        elif kind == "ref":
            url = base and f"{base}/-/tree/{quote(value, safe='')}"
        elif kind == "user" and gitlab_url:
            url = f"{gitlab_url.rstrip('/')}/{quote(value, safe='')}"
        result[kind] = CiLinkView(kind, text, url)
    return result
