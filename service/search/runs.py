"""search_runs: one page of run ids matching a filter, in MLflow's order."""
from __future__ import annotations

from sqlalchemy import Connection, false, select, true

from mltracker.service.db.schema import runs
from mltracker.service.search.filter_compiler import compile_run_filter
from mltracker.service.search.filter_parser import parse_filter
from mltracker.service.search.limits import check_max_results, lifecycle_stages
from mltracker.service.search.order_by import run_ordering
from mltracker.service.search.page_token import decode_offset, encode_offset
from mltracker.service.search.run_vocabulary import RunVocabulary


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
    dialect = conn.dialect.name
    where = compile_run_filter(parse_filter(filter_string, RunVocabulary()), dialect)
    ordering = run_ordering(order_by, dialect)
    offset = decode_offset(page_token)
    if not experiment_ids:
        return [], None

    base = (
        select(runs.c.run_uuid)
        .select_from(ordering.source)
        .where(runs.c.experiment_id.in_(experiment_ids), runs.c.lifecycle_stage.in_(stages), *where)
    )
    wanted = None if max_results is None else max_results + 1  # one extra row: is there a next page?
    if ordering.leading_metric is None:
        query = base.order_by(*ordering.clauses).offset(offset)
        run_ids = list(conn.execute(query if wanted is None else query.limit(wanted)).scalars())
    else:
        run_ids = _by_leading_metric(conn, base, ordering, offset, wanted)
    if max_results is not None and len(run_ids) > max_results:
        return run_ids[:max_results], encode_offset(offset + max_results)
    return run_ids, None


def _by_leading_metric(conn: Connection, base, ordering, offset: int, wanted: int | None) -> list[str]:
    """Runs with a real value first, then NaN, then none, as one ORDER BY would give, but each
    part read on its own: the first walks the latest_metrics (key, value) index in order and stops
    at the page's end, where a single sort would rank every matching run first."""
    metric = ordering.leading_metric
    rest = ordering.clauses[1:]  # drop the NaN/missing rank of the leading metric
    parts = [
        (base.where(metric.c.value.is_not(None), metric.c.is_nan == false()), rest),
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
