"""search_runs: one page of run ids matching a filter, in MLflow's order."""
from __future__ import annotations

from sqlalchemy import Connection, select

from service.db.schema import runs
from service.search.filter_compiler import compile_run_filter
from service.search.filter_parser import parse_filter
from service.search.limits import check_max_results, lifecycle_stages
from service.search.order_by import run_ordering
from service.search.page_token import decode_offset, encode_offset
from service.search.run_vocabulary import RunVocabulary
from service.search.text_match import register_sqlite_functions


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

    query = (
        select(runs.c.run_uuid)
        .select_from(ordering.source)
        .where(runs.c.experiment_id.in_(experiment_ids), runs.c.lifecycle_stage.in_(stages), *where)
        .order_by(*ordering.clauses)
        .offset(offset)
    )
    if max_results is not None:
        query = query.limit(max_results + 1)  # one extra row tells whether another page exists
    register_sqlite_functions(conn)
    run_ids = list(conn.execute(query).scalars())
    if max_results is not None and len(run_ids) > max_results:
        return run_ids[:max_results], encode_offset(offset + max_results)
    return run_ids, None
