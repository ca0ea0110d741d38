"""Candidates as a comparison needs them — the merge request report, the bot's compare command,
the UI's compare and pipeline pages, the quality gate — loaded in a fixed number of queries
however many runs and metrics: the runs (four queries), the order their metrics were first logged,
their CI links and, when asked, every metric's sampled history (one query)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from mltracker.service.db.id_lists import among
from mltracker.service.db.schema import metrics
from mltracker.service.linking.links import CiLink, links_of_runs
from mltracker.service.tracking.metric_history import sampled_histories
from mltracker.service.tracking.run_loading import CHUNK, load_runs
from mltracker.service.tracking.run_records import Metric, Run


@dataclass(frozen=True)
class Candidate:
    run: Run
    metric_order: tuple[str, ...] = ()  # metric keys in the order they were first logged
    history: Mapping[str, list[Metric]] = field(default_factory=dict)  # sampled, by key; empty unless asked
    ci: CiLink | None = None

    @property
    def run_id(self) -> str:
        return self.run.info.run_id

    @property
    def name(self) -> str:
        return self.run.info.name

    @property
    def status(self) -> str:
        return self.run.info.status

    @property
    def metrics(self) -> dict[str, float]:
        """Each metric's latest value (NaN and the infinities as floats)."""
        return self.run.metric_values


def load_candidates(conn: Connection, run_ids: list[str], *, history_points: int | None = None) -> list[Candidate]:
    """Candidates in the order of run_ids (ids of no run are left out); with `history_points`, each
    metric's history sampled to at most that many points."""
    result = []
    for start in range(0, len(run_ids), CHUNK):
        result.extend(_load_chunk(conn, run_ids[start : start + CHUNK], history_points))
    return result


def _load_chunk(conn: Connection, run_ids: list[str], history_points: int | None) -> list[Candidate]:
    runs = load_runs(conn, run_ids, with_inputs=False)
    order = metric_order(conn, run_ids)
    links = links_of_runs(conn, run_ids)
    history = sampled_histories(conn, run_ids, history_points) if history_points else {}
    return [
        Candidate(run, order.get(run.run_id, ()), history.get(run.run_id, {}), links.get(run.run_id))
        for run in runs
    ]


def metric_order(conn: Connection, run_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """run id -> its metric keys by the time each was first logged (then by key)."""
    first_logged = (
        select(metrics.c.run_uuid, metrics.c.key, func.min(metrics.c.timestamp).label("first"))
        .where(among(conn, metrics.c.run_uuid, run_ids))
        .group_by(metrics.c.run_uuid, metrics.c.key)
        .order_by(metrics.c.run_uuid, "first", metrics.c.key)
    )
    order: dict[str, list[str]] = defaultdict(list)
    for row in conn.execute(first_logged):
        order[row.run_uuid].append(row.key)
    return {k: tuple(v) for k, v in order.items()}
