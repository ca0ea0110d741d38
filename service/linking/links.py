"""The link table: which CI job, pipeline, commit, ref and merge request produced a candidate.

Queries for the bot, reports and the quality gate. All take an open connection and exclude
deleted candidates; run ids come back in creation order.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from mltracker.service.db.schema import ci_links, runs, tags
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.tracking.clock import now_ms

ACTIVE = "active"

TAG_JOB_ID = "gitlab.CI_JOB_ID"
TAG_PIPELINE_ID = "gitlab.CI_PIPELINE_ID"
TAG_COMMIT_SHA = "gitlab.CI_COMMIT_SHA"
TAG_REF_NAME = "gitlab.CI_COMMIT_REF_NAME"
TAG_MERGE_REQUEST_IID = "gitlab.CI_MERGE_REQUEST_IID"
TAG_USER = "gitlab.user"
GITLAB_TAG_PREFIX = "gitlab."


@dataclass(frozen=True)
class JobLink:
    """What a candidate is linked to. `ref` is the branch or tag name (CI_COMMIT_REF_NAME)."""
    job_id: int
    pipeline_id: int
    commit_sha: str
    ref: str
    merge_request_iid: int | None
    user: str

    def tags(self) -> dict[str, str]:
        tags = {
            TAG_JOB_ID: str(self.job_id),
            TAG_PIPELINE_ID: str(self.pipeline_id),
            TAG_COMMIT_SHA: self.commit_sha,
            TAG_REF_NAME: self.ref,
            TAG_USER: self.user,
        }
        if self.merge_request_iid is not None:
            tags[TAG_MERGE_REQUEST_IID] = str(self.merge_request_iid)
        return tags


@dataclass(frozen=True)
class CiLink(JobLink):
    run_uuid: str = ""
    project_id: int = 0


def record_link(conn: Connection, project_id: int, run_id: str, link: JobLink | None) -> None:
    """Write (or rewrite) the candidate's link row and its gitlab.* tags, in the caller's transaction."""
    if link is None:
        return
    from mltracker.service.db.schema import tags

    upsert_rows(
        conn, ci_links,
        [{
            "run_uuid": run_id, "project_id": project_id, "job_id": link.job_id,
            "pipeline_id": link.pipeline_id, "commit_sha": link.commit_sha, "ref": link.ref,
            "merge_request_iid": link.merge_request_iid, "user": link.user, "linked_time": now_ms(),
        }],
        ["run_uuid"],
        ["project_id", "job_id", "pipeline_id", "commit_sha", "ref", "merge_request_iid", "user", "linked_time"],
    )
    upsert_rows(
        conn, tags, [{"run_uuid": run_id, "key": k, "value": v} for k, v in link.tags().items()],
        ["run_uuid", "key"], ["value"],
    )


def _row_to_link(row) -> CiLink:
    return CiLink(
        job_id=int(row.job_id), pipeline_id=int(row.pipeline_id), commit_sha=row.commit_sha, ref=row.ref,
        merge_request_iid=int(row.merge_request_iid) if row.merge_request_iid is not None else None,
        user=row.user, run_uuid=row.run_uuid, project_id=int(row.project_id),
    )


def link_of_run(conn: Connection, run_id: str) -> CiLink | None:
    row = conn.execute(select(ci_links).where(ci_links.c.run_uuid == run_id)).first()
    return _row_to_link(row) if row is not None else None


def links_of_runs(conn: Connection, run_ids: list[str]) -> dict[str, CiLink]:
    if not run_ids:
        return {}
    rows = conn.execute(select(ci_links).where(ci_links.c.run_uuid.in_(list(run_ids))))
    return {row.run_uuid: _row_to_link(row) for row in rows}


def _linked_runs(project_id: int, experiment_id: int | None):
    conditions = [ci_links.c.project_id == project_id, runs.c.lifecycle_stage == ACTIVE]
    if experiment_id is not None:
        conditions.append(runs.c.experiment_id == experiment_id)
    return (
        select(ci_links.c.run_uuid)
        .join(runs, runs.c.run_uuid == ci_links.c.run_uuid)
        .where(and_(*conditions))
        .order_by(runs.c.start_time, runs.c.run_uuid)
    )


def runs_of_pipeline(conn: Connection, project_id: int, pipeline_id: int, experiment_id: int | None = None) -> list[str]:
    """Candidates produced by pipeline N of the project (optionally of one experiment)."""
    stmt = _linked_runs(project_id, experiment_id).where(ci_links.c.pipeline_id == pipeline_id)
    return list(conn.execute(stmt).scalars())


def runs_of_merge_request(conn: Connection, project_id: int, merge_request_iid: int,
                          experiment_id: int | None = None) -> list[str]:
    """Candidates produced by any pipeline of merge request !M of the project."""
    stmt = _linked_runs(project_id, experiment_id).where(ci_links.c.merge_request_iid == merge_request_iid)
    return list(conn.execute(stmt).scalars())


def latest_pipeline_on_ref(conn: Connection, project_id: int, experiment_id: int, ref: str,
                           exclude_pipeline_id: int | None = None) -> int | None:
    """The newest pipeline on `ref` that produced candidates in the experiment."""
    conditions = [
        ci_links.c.project_id == project_id, ci_links.c.ref == ref,
        runs.c.experiment_id == experiment_id, runs.c.lifecycle_stage == ACTIVE,
    ]
    if exclude_pipeline_id is not None:
        conditions.append(ci_links.c.pipeline_id != exclude_pipeline_id)
    stmt = (
        select(func.max(ci_links.c.pipeline_id))
        .select_from(ci_links.join(runs, runs.c.run_uuid == ci_links.c.run_uuid))
        .where(and_(*conditions))
    )
    found = conn.execute(stmt).scalar()
    return int(found) if found is not None else None


def latest_pipeline_runs_on_ref(conn: Connection, project_id: int, experiment_id: int, ref: str,
                                exclude_pipeline_id: int | None = None) -> list[str]:
    """The baseline: candidates of the newest pipeline on `ref` (e.g. the target branch) in the
    experiment; empty when that branch has none yet."""
    pipeline_id = latest_pipeline_on_ref(conn, project_id, experiment_id, ref, exclude_pipeline_id)
    if pipeline_id is None:
        return []
    return runs_of_pipeline(conn, project_id, pipeline_id, experiment_id)


def run_tag_values(conn: Connection, run_id: str, keys: list[str]) -> dict[str, str]:
    """The run's stored values of these tag keys (absent keys left out)."""
    return dict(conn.execute(
        select(tags.c.key, tags.c.value).where(tags.c.run_uuid == run_id, tags.c.key.in_(keys))
    ).all())
