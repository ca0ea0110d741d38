"""Request arguments shared by run and experiment search: max_results and the view type."""
from __future__ import annotations

from mltracker.service.errors import invalid
from mltracker.service.search.syntax import ListLiteral

SEARCH_MAX_RESULTS_THRESHOLD = 50000  # mlflow.store.tracking.SEARCH_MAX_RESULTS_THRESHOLD
# Bounds on one filter's size, so no filter outgrows the databases' own limits (SQLite's expression
# depth of 1000 and 32766 bound values, PostgreSQL's 65535) or costs the database more than a
# statement timeout's worth of work per clause. MLflow has none; its UI and clients stay far below.
MAX_FILTER_CLAUSES = 100
MAX_FILTER_VALUES = 10_000

VIEW_TYPE_STAGES = {
    "ACTIVE_ONLY": ("active",),
    "DELETED_ONLY": ("deleted",),
    "ALL": ("active", "deleted"),
}


def check_max_results(max_results: int | None, allow_none: bool = False) -> None:
    if (max_results is None and not allow_none) or (max_results is not None and max_results < 1):
        raise invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be "
            "a positive integer"
        )
    if max_results is not None and max_results > SEARCH_MAX_RESULTS_THRESHOLD:
        raise invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {SEARCH_MAX_RESULTS_THRESHOLD}"
        )


def check_filter_size(comparisons) -> None:
    if len(comparisons) > MAX_FILTER_CLAUSES:
        raise invalid(
            f"Invalid filter: {len(comparisons)} clauses; a filter may have at most {MAX_FILTER_CLAUSES}."
        )
    values = sum(len(c.value.items) for c in comparisons if isinstance(c.value, ListLiteral))
    if values > MAX_FILTER_VALUES:
        raise invalid(
            f"Invalid filter: {values} values in lists; a filter may have at most {MAX_FILTER_VALUES}."
        )


def lifecycle_stages(view_type: str | None) -> tuple[str, ...]:
    """Lifecycle stages a view type ("ACTIVE_ONLY", "DELETED_ONLY", "ALL") selects."""
    stages = VIEW_TYPE_STAGES.get((view_type or "ACTIVE_ONLY").upper())
    if stages is None:
        raise invalid(
            f"Invalid view type '{view_type}'. Valid view types are {list(VIEW_TYPE_STAGES)}"
        )
    return stages
