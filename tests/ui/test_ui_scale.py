"""10,000 candidates in an experiment: every page runs a bounded number of queries, the same as
for a small experiment (paged queries and bulk loads, no N+1). Counts, not timings."""
from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import event

from mltracker.service.app import create_app
from mltracker.service.settings import Settings
from tests.conftest import fresh_pg_database
from tests.ui.seed import seed_demo, seed_many

MAX_QUERIES = 15


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scale_app(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui-scale")
    artifacts = str(tmp / "artifacts")
    if request.param == "sqlite":
        yield _app(f"sqlite:///{tmp}/mltracker.db", artifacts, tmp)
    else:
        with fresh_pg_database() as uri:
            app = _app(uri, artifacts, tmp)
            yield app
            app.extensions["mltracker"].db.dispose()


def _app(uri, artifacts, tmp):
    seeded = seed_demo(uri, artifacts)
    big = seed_many(uri, 0, "ten-thousand", 10_000)
    # No in-process job workers: they poll the job queue on this engine from their own threads, and a
    # poll landing inside a page's window would be counted as one of its queries.
    app = create_app(Settings(backend_store_uri=uri, artifacts_destination=artifacts, data_dir=str(tmp),
                              run_jobs_in_process=False))
    app.seeded, app.big = seeded, big
    return app


@contextmanager
def counted(app):
    statements: list[str] = []
    engine = app.extensions["mltracker"].db.engine

    def _count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def queries_for(app, url: str) -> int:
    with counted(app) as statements:
        response = app.test_client().get(url)
    assert response.status_code == 200, (url, response.data[:500])
    return len(statements)


def _same_order(query: str) -> str:
    kept = [(name, value) for name, value in parse_qsl(query.lstrip("?")) if name in ("sort", "dir")]
    return f"?{urlencode(kept)}" if kept else ""


@pytest.mark.parametrize("query", [
    "",
    "?sort=metric:acc&dir=desc",
    "?sort=param:seed&dir=asc&page=150",
    "?q=big-09&sort=name",
    "?filter=metrics.acc+>+0.5+and+params.lr+=+'3'&page=3",
    "?cols=metric:acc&cols=param:lr&page=200",
])
def test_experiment_page_query_count_is_constant(scale_app, query):
    """The same count for 61 and 10,000 candidates, whatever the filter, columns or page: the small
    experiment's first page in the same order (an order may cost the same few queries at any size:
    SQLite's metric walk counts first, service/search/sqlite_metric_walk.py)."""
    small = queries_for(scale_app, f"/experiments/{scale_app.seeded.experiment_id}{_same_order(query)}")
    big = queries_for(scale_app, f"/experiments/{scale_app.big}{query}")
    assert big <= MAX_QUERIES
    assert big == small


def test_big_page_shows_fifty_of_ten_thousand(scale_app):
    html = scale_app.test_client().get(f"/experiments/{scale_app.big}?sort=metric:acc&dir=desc&page=2").data.decode()
    assert "51–100</strong> of <strong>10,000" in html
    assert html.count('name="run"') == 50


def test_other_pages_are_bounded(scale_app):
    seeded = scale_app.seeded
    runs = list(seeded.runs.values())
    assert queries_for(scale_app, "/") <= 3
    assert queries_for(scale_app, f"/candidates/{seeded.artifact_run}") <= MAX_QUERIES
    three = queries_for(scale_app, "/compare?" + "&".join(f"run={r}" for r in runs[:3]))
    ten = queries_for(scale_app, "/compare?" + "&".join(f"run={r}" for r in runs[:10]))
    assert three == ten <= MAX_QUERIES
    assert queries_for(scale_app, "/models") <= 3
