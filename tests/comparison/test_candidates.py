"""The candidate loader that the merge request report, the bot, the UI's compare page and the quality
gate share: typed values, and a fixed number of queries however many runs and metrics (SQLite and
PostgreSQL)."""
from __future__ import annotations

import math
import sys
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from mltracker.service.comparison.candidates import load_candidates
from mltracker.service.report_data.links import Links
from mltracker.service.report_data.pipeline_report import comparison_report
from mltracker.service.tracking.metric_history import sampled_histories, sampled_history
from tests import factories

NAN, INF = float("nan"), float("inf")
# runs, latest metrics, params, tags; first-logged order; CI links; sampled histories
LOADER_QUERIES = 7


@contextmanager
def counted(conn):
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK", "SAVEPOINT")):
            statements.append(statement)

    event.listen(conn.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(conn.engine, "before_cursor_execute", _count)


def _pipeline(conn, experiment_id, runs: int, metrics: int, points: int, pipeline: int = 50) -> list[str]:
    return [
        factories.run(conn, experiment_id, f"run-{r}", pipeline=pipeline, params={"seed": str(r)}, metrics={
            f"m{k}": [(step, r + k + step / 10) for step in range(points)] for k in range(metrics)
        })
        for r in range(runs)
    ]


def test_candidates_are_typed_values(conn):
    experiment = factories.experiment(conn)
    run_id = factories.run(conn, experiment, "typed", pipeline=7, params={"lr": "0.1"}, metrics={
        "loss": [(0, 0.9), (1, 0.5), (2, NAN)], "score": INF, "acc": 0.75,
    })
    [candidate] = load_candidates(conn, [run_id], history_points=10)
    assert (candidate.run_id, candidate.name, candidate.status) == (run_id, "typed", "FINISHED")
    assert candidate.metrics["acc"] == 0.75
    assert candidate.metrics["score"] == sys.float_info.max  # stored as MLflow stores infinity
    assert math.isnan(candidate.metrics["loss"])  # the latest point, a float (not MLflow's "NaN")
    assert candidate.run.params == {"lr": "0.1"}
    assert candidate.ci.pipeline_id == 7
    assert candidate.metric_order == ("acc", "loss", "score")  # all first logged at once: by key
    assert [(p.step, p.value) for p in candidate.history["loss"][:2]] == [(0, 0.9), (1, 0.5)]
    assert math.isnan(candidate.history["loss"][2].value)


def test_unknown_ids_are_left_out_and_order_is_kept(conn):
    experiment = factories.experiment(conn)
    a, b = (factories.run(conn, experiment, name, metrics={"m": 1.0}) for name in ("a", "b"))
    assert [c.run_id for c in load_candidates(conn, [b, "0" * 32, a])] == [b, a]


def test_loader_query_count_does_not_grow_with_runs_or_metrics(conn):
    experiment = factories.experiment(conn)
    small = _pipeline(conn, experiment, runs=2, metrics=1, points=3)
    big = _pipeline(conn, experiment, runs=25, metrics=8, points=40, pipeline=51)
    with counted(conn) as few:
        load_candidates(conn, small, history_points=10)
    with counted(conn) as many:
        loaded = load_candidates(conn, big, history_points=10)
    assert len(many) == len(few) == LOADER_QUERIES, many
    assert len(loaded) == 25 and all(len(c.history) == 8 for c in loaded)
    assert all(len(points) == 10 for c in loaded for points in c.history.values())


def test_merge_request_report_query_count_does_not_grow_with_runs_or_metrics(conn):
    experiment = factories.experiment(conn)
    _pipeline(conn, experiment, runs=2, metrics=2, points=3, pipeline=60)  # the target branch's baseline
    small = _pipeline(conn, experiment, runs=2, metrics=2, points=3, pipeline=61)
    big = _pipeline(conn, experiment, runs=20, metrics=6, points=30, pipeline=62)
    links = Links("http://ml.test", factories.PROJECT, "http://gitlab.test/g/p")

    def report_queries(run_ids, pipeline):
        with counted(conn) as statements:
            report = comparison_report(conn, factories.PROJECT, run_ids, target_branch="main", links=links,
                                       exclude_pipeline_id=pipeline)
        assert report.experiments[0].baseline is not None
        return len(statements)

    assert report_queries(big, 62) == report_queries(small, 61)


@pytest.mark.parametrize("points", [1, 4, 7, 50])
def test_batched_sampling_is_the_single_series_sampling(conn, points):
    experiment = factories.experiment(conn)
    history = [(step // 3, math.sin(step)) for step in range(40)] + [(13, NAN), (14, -INF)]
    run_ids = [factories.run(conn, experiment, f"r{i}", metrics={"a": history, "b": history[: 5 + i]})
               for i in range(3)]
    batched = sampled_histories(conn, run_ids, points)
    for run_id in run_ids:
        for key in ("a", "b"):
            one = sampled_history(conn, run_id, key, points, None, None)
            assert _comparable(batched[run_id][key]) == _comparable(one), (run_id, key)
            assert len(one) == min(points, len(history) if key == "a" else 5 + run_ids.index(run_id))


def _comparable(points):
    return [(p.step, p.timestamp, "nan" if math.isnan(p.value) else p.value) for p in points]
