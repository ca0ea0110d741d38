"""The experiments list and an experiment's candidates table (search, filter, sort, columns, pages)."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import render_template, request

from mltracker.service.context import current_project_id, services
from mltracker.service.errors import MlflowError
from mltracker.service.search.filter_parser import parse_filter
from mltracker.service.search.run_vocabulary import RunVocabulary
from mltracker.service.search.runs import count_runs, find_run_ids
from mltracker.service.search.syntax import Comparator, Comparison, Entity, OrderKey
from mltracker.service.tracking.experiments import get_experiment_row
from mltracker.service.tracking.run_loading import load_runs
from mltracker.service.ui.blueprint import bp, ui_url
from mltracker.service.ui.candidate_view import CandidateRow
from mltracker.service.ui.queries import column_keys, experiment_summaries

PAGE_SIZE = 50
DEFAULT_METRIC_COLUMNS = 5
DEFAULT_PARAM_COLUMNS = 3
ATTRIBUTE_SORTS = {"name": "run_name", "created": "start_time", "status": "status"}
SORT_ENTITIES = {"metric": Entity.METRIC, "param": Entity.PARAM}


@bp.get("/")
def index():
    with services().db.read() as conn:
        summaries = experiment_summaries(conn, current_project_id())
    return render_template("ui/experiments.html", experiments=summaries)


@dataclass(frozen=True)
class TableState:
    """What the candidates table shows, as read from (and written back to) the query string."""

    q: str
    filter: str
    sort: str  # name | created | status | metric:<key> | param:<key>
    direction: str  # asc | desc
    page: int
    columns: tuple[str, ...] | None  # "metric:<key>" / "param:<key>"; None = defaults

    @classmethod
    def from_request(cls) -> "TableState":
        args = request.args
        try:
            page = max(1, int(args.get("page", "1")))
        except ValueError:
            page = 1
        sort = args.get("sort", "created")
        if sort not in ATTRIBUTE_SORTS and not sort.startswith(("metric:", "param:")):
            sort = "created"
        direction = "asc" if args.get("dir") == "asc" else "desc"
        columns = tuple(args.getlist("cols")) if "cols" in args else None
        return cls(args.get("q", "").strip(), args.get("filter", "").strip(), sort, direction, page, columns)

    def order(self) -> list[OrderKey]:
        ascending = self.direction == "asc"
        if self.sort in ATTRIBUTE_SORTS:
            return [OrderKey(Entity.ATTRIBUTE, ATTRIBUTE_SORTS[self.sort], ascending)]
        kind, key = self.sort.split(":", 1)
        return [OrderKey(SORT_ENTITIES[kind], key, ascending)]

    def where(self) -> list[Comparison]:
        """The search box (a name containing q) and the filter typed in MLflow's syntax, whose
        errors (MlflowError) are the user's to read."""
        where = list(parse_filter(self.filter, RunVocabulary())) if self.filter else []
        if self.q:
            where.append(Comparison(Entity.ATTRIBUTE, "run_name", Comparator.ILIKE, f"%{self.q}%"))
        return where

    def query(self, **changes) -> dict:
        values = {"q": self.q, "filter": self.filter, "sort": self.sort, "dir": self.direction, "page": self.page}
        values.update(changes)
        params = [(k, v) for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)]
        if self.columns is not None:
            params += [("cols", c) for c in self.columns]
        return params

    def href(self, experiment_id: int, **changes) -> str:
        return ui_url("experiment", experiment_id=experiment_id) + "?" + urlencode(self.query(**changes))

    def sort_href(self, experiment_id: int, sort: str) -> str:
        direction = "asc" if self.sort == sort and self.direction == "desc" else "desc"
        if sort == "name" and self.sort != sort:
            direction = "asc"
        return self.href(experiment_id, sort=sort, dir=direction, page=1)


@bp.get("/experiments/<int:experiment_id>")
def experiment(experiment_id: int):
    state = TableState.from_request()
    project_id = current_project_id()
    error = None
    rows: list[CandidateRow] = []
    total = 0
    with services().db.read() as conn:
        exp = get_experiment_row(conn, project_id, experiment_id)
        metric_keys, param_keys = column_keys(conn, experiment_id)
        try:
            where = state.where()
            total = count_runs(conn, experiment_ids=[experiment_id], where=where)
            run_ids, _ = find_run_ids(conn, experiment_ids=[experiment_id], where=where, order=state.order(),
                                      offset=(state.page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
            rows = [CandidateRow.of(run) for run in load_runs(conn, run_ids)]
        except MlflowError as exc:
            error = exc.message
    if state.columns is None:
        columns = [f"metric:{k}" for k in metric_keys[:DEFAULT_METRIC_COLUMNS]]
        columns += [f"param:{k}" for k in param_keys[:DEFAULT_PARAM_COLUMNS]]
    else:
        known = {f"metric:{k}" for k in metric_keys} | {f"param:{k}" for k in param_keys}
        columns = [c for c in state.columns if c in known]
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "ui/experiment.html",
        experiment=exp, state=state, rows=rows, total=total, error=error,
        metric_keys=metric_keys, param_keys=param_keys, columns=[tuple(c.split(":", 1)) for c in columns],
        page=state.page, pages=pages, page_size=PAGE_SIZE,
        first=(state.page - 1) * PAGE_SIZE + 1 if rows else 0, last=(state.page - 1) * PAGE_SIZE + len(rows),
        any_ci=any(r.ci for r in rows),
    )
