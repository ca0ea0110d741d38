"""Run search: the ids of the runs matching structured filters (`Comparison`s), in a structured
order (`OrderKey`s), a page at a time — `find_run_ids`, `count_runs` — and search_runs as MLflow's
API asks it (filter and order_by strings, page tokens) on top of them."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, false, func, select, true

from mltracker.service.db.schema import runs
from mltracker.service.search import sqlite_metric_walk
from mltracker.service.search.filter_compiler import compile_run_filter
from mltracker.service.search.filter_parser import parse_filter
from mltracker.service.search.limits import check_max_results, lifecycle_stages
from mltracker.service.search.order_by import parse_run_order_by, run_ordering
from mltracker.service.search.page_token import decode_offset, encode_offset
from mltracker.service.search.run_vocabulary import RunVocabulary
from mltracker.service.search.syntax import Comparison, OrderKey


def search_run_ids(
    conn: Connection,
    *,
    experiment_ids: list[int],
    filter_string: str | None,
    run_view_type: str = "ACTIVE_ONLY",
    max_results: int | None = 1000,
    order_by: list[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[str], str | None]:
    """Run uuids of one page and the token for the next (None on the last page).

    max_results=None means no limit (MLflow's store allows it). Raises MlflowError
    (INVALID_PARAMETER_VALUE) for bad arguments, before touching the database.
    """
    check_max_results(max_results, allow_none=True)
    stages = lifecycle_stages(run_view_type)
    where = parse_filter(filter_string, RunVocabulary())
    order = parse_run_order_by(order_by)
    offset = decode_offset(page_token)
    run_ids, more = find_run_ids(conn, experiment_ids=experiment_ids, where=where, order=order,
                                 stages=stages, offset=offset, limit=max_results)
    return run_ids, encode_offset(offset + len(run_ids)) if more else None


def find_run_ids(
    conn: Connection,
    *,
    experiment_ids: Sequence[int],
    where: Sequence[Comparison] = (),
    order: Sequence[OrderKey] = (),
    stages: Sequence[str] = ("active",),
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[str], bool]:
    """Run uuids of one page (`limit` from `offset`; None: all) and whether more follow.

    The order is MLflow's: `order` first, runs lacking a key last, then start_time DESC and run
    uuid for stable paging."""
    if not experiment_ids:
        return [], False
    dialect = conn.dialect.name
    ordering = run_ordering(order, dialect)
    base = (
        select(runs.c.run_uuid)
        .select_from(ordering.source)
        .where(runs.c.experiment_id.in_(experiment_ids), runs.c.lifecycle_stage.in_(stages),
               *compile_run_filter(where, dialect))
    )
    wanted = None if limit is None else limit + 1  # one extra row: is there a next page?
    if ordering.leading_metric is None:
        query = base.order_by(*ordering.clauses).offset(offset)
        run_ids = list(conn.execute(query if wanted is None else query.limit(wanted)).scalars())
    else:
        walk = None
        if dialect == "sqlite" and wanted is not None:
            walk = sqlite_metric_walk.walk_query(conn, ordering, experiment_ids, stages, where, order[0].key,
                                                 offset + wanted)
        run_ids = _by_leading_metric(conn, base, ordering, offset, wanted, first=walk)
    if limit is not None and len(run_ids) > limit:
        return run_ids[:limit], True
    return run_ids, False


def count_runs(
    conn: Connection, *, experiment_ids: Sequence[int], where: Sequence[Comparison] = (),
    stages: Sequence[str] = ("active",),
) -> int:
    """How many runs match (what `find_run_ids` pages through)."""
    if not experiment_ids:
        return 0
    query = select(func.count()).select_from(runs).where(
        runs.c.experiment_id.in_(experiment_ids), runs.c.lifecycle_stage.in_(stages),
        *compile_run_filter(where, conn.dialect.name),
    )
    return int(conn.execute(query).scalar_one())


def _by_leading_metric(conn: Connection, base, ordering, offset: int, wanted: int | None,
                       first=None) -> list[str]:
    """Runs with a real value first, then NaN, then none, as one ORDER BY would give, but each
    part read on its own: the first can walk the latest_metrics (key, value) index in order and
    stop at the page's end, where a single sort would rank every matching run first (PostgreSQL's
    planner chooses that by its statistics; on SQLite `first` is that walk when it is chosen)."""
    metric = ordering.leading_metric
    rest = ordering.clauses[1:]  # drop the NaN/missing rank of the leading metric
    parts = [
        (first if first is not None else base.where(metric.c.value.is_not(None), metric.c.is_nan == false()), rest),
        (base.where(metric.c.is_nan == true()), rest[1:]),  # all NaN: the value sorts nothing
        (base.where(metric.c.value.is_(None)), rest[1:]),
    ]
    found: list[str] = []
    skip = offset
    for query, clauses in parts:
        query = query.order_by(*clauses)
        if wanted is not None:
            query = query.limit(skip + wanted - len(found))
        rows = list(conn.execute(query).scalars())
        skipped = min(skip, len(rows))
        skip -= skipped
        found += rows[skipped:]
        if wanted is not None and len(found) >= wanted:
            break
    return found
