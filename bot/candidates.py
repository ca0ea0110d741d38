"""Resolving what a developer typed (run name, run id, id prefix) to one candidate."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, or_, select

from mltracker.service.db.schema import runs
from mltracker.service.linking.links import runs_of_merge_request

MIN_PREFIX = 6


@dataclass(frozen=True)
class Match:
    run_id: str
    name: str
    experiment_id: int


class CandidateNotFound(Exception):
    pass


class AmbiguousCandidate(Exception):
    def __init__(self, ref: str, matches: list[Match]):
        super().__init__(ref)
        self.matches = matches


def resolve_candidate(conn: Connection, project_id: int, merge_request_iid: int, ref: str) -> Match:
    """This merge request's candidates first, then the whole project."""
    mr_runs = runs_of_merge_request(conn, project_id, merge_request_iid)
    for scope in (mr_runs, None):
        if scope is not None and not scope:
            continue
        matches = _matches(conn, project_id, ref, scope)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AmbiguousCandidate(ref, matches)
    raise CandidateNotFound(ref)


def _matches(conn: Connection, project_id: int, ref: str, scope: list[str] | None) -> list[Match]:
    conditions = [runs.c.name == ref, runs.c.run_uuid == ref]
    if len(ref) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in ref.lower()):
        conditions.append(runs.c.run_uuid.startswith(ref.lower(), autoescape=True))
    query = select(runs.c.run_uuid, runs.c.name, runs.c.experiment_id).where(
        runs.c.project_id == project_id, runs.c.lifecycle_stage == "active", or_(*conditions)
    )
    if scope is not None:
        query = query.where(runs.c.run_uuid.in_(scope))
    rows = conn.execute(query.order_by(runs.c.start_time.desc()).limit(20)).all()
    exact = [r for r in rows if r.run_uuid == ref]
    return [Match(r.run_uuid, r.name, r.experiment_id) for r in (exact or rows)]
