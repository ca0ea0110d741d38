"""On SQLite, the page of runs ordered by a metric read by walking that metric's (key, value) index
in order and stopping at the page's end, instead of scanning every run of the experiments and sorting
the matches (what SQLite's planner picks on its own, statistics or not: 10,000 runs, 5% matching,
33 -> 12 ms of CPU for a page of 100).

The walk visits the key's entries of every experiment, so it is only taken when the key has at most
WALK_BOUND times as many entries as the searched experiments have runs: its worst case (a filter
nothing matches) then stays within that factor of the scan's.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, false, func, literal, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from mltracker.service.db.schema import latest_metrics, runs
from mltracker.service.search.filter_compiler import compile_run_filter
from mltracker.service.search.syntax import Comparison

WALK_BOUND = 2


def walk_query(conn: Connection, ordering, experiment_ids: Sequence[int], stages: Sequence[str],
               where: Sequence[Comparison], key: str, needed: int):
    """The query of the runs with a real value of the leading metric (the first part of
    runs._by_leading_metric) driven by the metric's index, or None where the scan is cheaper.
    `needed`: the rows the page reads (offset included)."""
    in_scope = conn.execute(select(func.count()).select_from(runs).where(
        runs.c.experiment_id.in_(experiment_ids), runs.c.lifecycle_stage.in_(stages))).scalar_one()
    if needed >= in_scope:
        return None  # the page reaches the end: every run is read either way
    bound = WALK_BOUND * in_scope
    entries = conn.execute(select(func.count()).select_from(
        select(literal(1)).where(latest_metrics.c.key == key).limit(bound + 1).subquery())).scalar_one()
    if entries > bound:
        return None
    metric = ordering.leading_metric
    # The filters are correlated on the metric row's run id (equal to the run's by the join), so
    # SQLite checks them before looking the run up.
    return (
        select(runs.c.run_uuid)
        .select_from(ordering.source)
        .where(_without_index(runs.c.experiment_id).in_(experiment_ids),
               _without_index(runs.c.lifecycle_stage).in_(stages),
               *compile_run_filter(where, "sqlite", run_id=metric.c.run_uuid),
               metric.c.value.is_not(None), metric.c.is_nan == false())
    )


def _without_index(column):
    """`+column`: SQLite's documented way to keep a term from choosing an index, so the runs'
    experiment index cannot drive the query and the metric's index does."""
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
