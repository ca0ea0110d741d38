"""CI linking at the API edge: what the run endpoints call, from the request's grant (GitLab mode
only; no-ops in local mode). The domain rules and queries live in service.linking.

Two phases, so that GitLab is never called while a write transaction holds the database:
`*_link_*` functions run before the transaction (they may call GitLab and raise MLflow errors),
`record_link` runs inside it.

Rules for client-sent `gitlab.*` tags:
- `gitlab.CI_JOB_ID` (GitLab's documented snippet sets it) links the candidate to that job once the
  job is checked to be a job of the project; a job of another project is INVALID_PARAMETER_VALUE.
  A candidate already linked to another job cannot be re-linked.
- any other `gitlab.*` tag is set by the server only: refused unless it repeats the stored value;
  deleting one is refused.
"""
from __future__ import annotations

from mltracker.service.auth import authorizer, current_grant
from mltracker.service.auth.credentials import USER
from mltracker.service.context import services
from mltracker.service.errors import invalid
from mltracker.service.linking.links import (
    GITLAB_TAG_PREFIX,
    TAG_JOB_ID,
    JobLink,
    link_of_run,
    record_link,
    run_tag_values,
)
from mltracker.service.linking.resolve import link_for_job, verified_job

__all__ = ["link_for_new_run", "link_for_logged_tags", "check_tag_deletion", "names_gitlab_tags", "record_link"]


def _gitlab_tags(tags: list[dict]) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in tags or []:
        key = tag.get("key") if isinstance(tag, dict) else None
        if isinstance(key, str) and key.startswith(GITLAB_TAG_PREFIX):
            value = tag.get("value")
            found[key] = "" if value is None else str(value)
    return found


def _user_token(grant) -> str | None:
    return grant.credential.token if grant.identity.kind == USER else None


def _cached_link(project_id: int, job, grant) -> JobLink:
    auth = authorizer()
    user_token = _user_token(grant)
    # What GitLab can tell depends on the token available for the MR lookup, so it is part of the key.
    can_look_up = auth.gitlab.has_bot_token or user_token is not None
    return auth.cache.get_or_compute(
        ("link", project_id, job.id, can_look_up),
        lambda: link_for_job(auth.gitlab, project_id, job, user_token),
    )


def _claimed_job_link(grant, project_id: int, raw_job_id: str) -> JobLink:
    try:
        job_id = int(raw_job_id.strip())
    except ValueError:
        raise invalid(f"Tag {TAG_JOB_ID} must be a GitLab job id, got '{raw_job_id}'.") from None
    own_job = grant.identity.job
    if own_job is not None and own_job.id == job_id:
        return _cached_link(project_id, own_job, grant)
    job = verified_job(authorizer().gitlab, project_id, job_id, _user_token(grant))
    return _cached_link(project_id, job, grant)


def names_gitlab_tags(tags: list[dict]) -> bool:
    """Whether any of the tags is a gitlab.* tag (those CI linking checks)."""
    return bool(_gitlab_tags(tags))


def link_for_new_run(project_id: int, client_tags: list[dict]) -> JobLink | None:
    """Before creating a run: the job it is linked to (the caller's CI job, or the job named by a
    client-set gitlab.CI_JOB_ID tag), or None."""
    grant = current_grant()
    if grant is None:
        return None
    claimed = _gitlab_tags(client_tags)
    job_id = claimed.pop(TAG_JOB_ID, None)
    if claimed:
        raise invalid(f"Tags {sorted(claimed)} are set by the server and cannot be set by clients.")
    if job_id is not None:
        return _claimed_job_link(grant, project_id, job_id)
    if grant.identity.job is not None:
        return _cached_link(project_id, grant.identity.job, grant)
    return None


def link_for_logged_tags(project_id: int, run_id: str, client_tags: list[dict]) -> JobLink | None:
    """Before logging tags on an existing run: refuse forged gitlab.* tags; the link to record when
    the client names the CI job (gitlab.CI_JOB_ID), else None."""
    grant = current_grant()
    if grant is None:
        return None
    claimed = _gitlab_tags(client_tags)
    if not claimed:
        return None
    job_id = claimed.pop(TAG_JOB_ID, None)
    with services().db.read() as conn:
        stored = run_tag_values(conn, run_id, list(claimed) + [TAG_JOB_ID])
        existing = link_of_run(conn, run_id)
    forged = sorted(k for k, v in claimed.items() if stored.get(k) != v)
    if forged:
        raise invalid(f"Tags {forged} are set by the server and cannot be set by clients.")
    if job_id is None:
        return None
    if existing is not None:
        if str(existing.job_id) != job_id.strip():
            raise invalid(f"Run {run_id} is already linked to job {existing.job_id}.")
        return None
    return _claimed_job_link(grant, project_id, job_id)


def check_tag_deletion(key) -> None:
    if current_grant() is not None and isinstance(key, str) and key.startswith(GITLAB_TAG_PREFIX):
        raise invalid(f"Tag {key} is set by the server and cannot be deleted by clients.")
