"""search_experiments: one page of experiment ids of a project matching a filter."""
from __future__ import annotations

from sqlalchemy import Connection, select

from mltracker.service.db.schema import experiments
from mltracker.service.search.experiment_vocabulary import ExperimentVocabulary
from mltracker.service.search.filter_compiler import compile_experiment_filter
from mltracker.service.search.filter_parser import parse_filter
from mltracker.service.search.limits import check_max_results, lifecycle_stages
from mltracker.service.search.order_by import experiment_ordering
from mltracker.service.search.page_token import decode_offset, encode_offset


def search_experiment_ids(
    conn: Connection,
    *,
    project_id: int,
    filter_string: str | None,
    view_type: str = "ACTIVE_ONLY",
    max_results: int = 1000,
    order_by: list[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[int], str | None]:
    """Experiment ids of one page and the token for the next (None on the last page)."""
    check_max_results(max_results)
    stages = lifecycle_stages(view_type)
    dialect = conn.dialect.name
    where = compile_experiment_filter(parse_filter(filter_string, ExperimentVocabulary()), dialect)
    ordering = experiment_ordering(order_by, dialect)
    offset = decode_offset(page_token)

    query = (
        select(experiments.c.experiment_id)
        .select_from(ordering.source)
        .where(experiments.c.project_id == project_id, experiments.c.lifecycle_stage.in_(stages), *where)
        .order_by(*ordering.clauses)
        .offset(offset)
        .limit(max_results + 1)  # one extra row tells whether another page exists
    )
    ids = list(conn.execute(query).scalars())
    if len(ids) > max_results:
        return ids[:max_results], encode_offset(offset + max_results)
    return ids, None
