"""Search latency at scale: 100,000 runs × 20 metrics in PostgreSQL (`make bench-scale`).

    .venv/bin/python benchmarks/scale_search.py                     # 100,000 runs, PostgreSQL
    .venv/bin/python benchmarks/scale_search.py --runs 20000 --backend sqlite --explain

Starts `mltracker serve` on a fresh database, creates one template run through the stock MLflow
client (20 metrics, 10 params, 5 tags), copies it in SQL (COPY) to the wanted number of runs, each
with its own metric and param values, runs ANALYZE, then times search_runs through the HTTP API:
pre-encoded request bodies posted with requests (server latency), and the same main query through
the stock client. Prints p50/p95 per query shape against the target (p95 < 200 ms).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import compare_mlflow as cm  # noqa: E402
import seeding  # noqa: E402
from profile_server import _start_mltracker  # noqa: E402

TARGET_P95_S = 0.200
SHAPES = [
    ("metric filter + param filter, order by metric", "metrics.m0 > 0.5 and params.p0 = 'v3'", ["metrics.m1 DESC"]),
    ("order by metric only", "", ["metrics.m1 DESC"]),
    ("metric filter, default order", "metrics.m0 > 0.9", []),
    ("param filter, default order", "params.p0 = 'v3'", []),
    ("two metric filters, order by metric ASC", "metrics.m0 > 0.5 and metrics.m2 < 0.2", ["metrics.m3 ASC"]),
    ("tag filter, order by param", "tags.t0 = 'run-42'", ["params.p1 ASC"]),
    ("attribute filter, order by start_time", "attributes.status = 'FINISHED'", ["attributes.start_time DESC"]),
    ("no filter, default order", "", []),
]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--queries", type=int, default=40, help="timed queries per shape")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--explain", action="store_true", help="print the main query's plan (mltracker's SQL)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="mltracker-scale-"))
    runner = cm.Runner()
    bench = cm.BackendBench(args.backend, cm.FULL, workdir, Path("/nonexistent"), runner, None, args.workers,
                            None, workdir / "none")
    started = time.time()
    try:
        server = _start_mltracker(bench)
        exp = runner("create_experiment", server.url, name="scale")["experiment_id"]
        template = runner("template_run", server.url, experiment_id=exp, metrics=args.metrics)["run_id"]
        kind, target = bench.stores["mltracker"]
        seed_start = time.time()
        seeding.clone_runs(kind, target, template, args.runs - 1)
        cm.log(f"seeded {args.runs:,} runs × {args.metrics} metrics in {time.time() - seed_start:.1f}s")
        if args.explain:
            explain(kind, target, exp)
        session = requests.Session()
        endpoint = server.url + "/api/2.0/mlflow/runs/search"
        lines = [
            f"# search at scale: {args.runs:,} runs × {args.metrics} metrics, {args.backend}, "
            f"{args.workers} workers, max_results 100, {args.queries} queries per shape",
            "",
            "| query | p50 | p95 | max | runs returned | p95 < 200 ms |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for label, filter_string, order_by in SHAPES:
            body = json.dumps({"experiment_ids": [exp], "filter": filter_string, "order_by": order_by,
                               "max_results": 100, "run_view_type": "ACTIVE_ONLY"})
            session.post(endpoint, data=body, headers={"Content-Type": "application/json"}).raise_for_status()
            times, returned = [], 0
            for _ in range(args.queries):
                t0 = time.perf_counter()
                response = session.post(endpoint, data=body, headers={"Content-Type": "application/json"})
                response.raise_for_status()
                returned = len(response.json().get("runs", []))
                times.append(time.perf_counter() - t0)
            p95 = percentile(times, 0.95)
            lines.append(f"| {label} | {statistics.median(times) * 1000:.0f} ms | {p95 * 1000:.0f} ms | "
                         f"{max(times) * 1000:.0f} ms | {returned} | {'yes' if p95 < TARGET_P95_S else '**no**'} |")
        client = runner("search", server.url, experiment_id=exp, queries=args.queries)
        lines.append(f"| stock client, first shape (client parse included) | {client['median_s'] * 1000:.0f} ms | "
                     f"{client['p95_s'] * 1000:.0f} ms | | {client['returned']} | "
                     f"{'yes' if client['p95_s'] < TARGET_P95_S else '**no**'} |")
        print("\n".join(lines))
        cm.log(f"total {time.time() - started:.0f}s")
    finally:
        runner.close()
        bench.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def explain(kind: str, target: str, experiment_id: str) -> None:
    """The plan of the main query as mltracker's search compiles it (imports service code, read-only)."""
    sys.path.insert(0, str(cm.ROOT))
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql, sqlite

    from mltracker.service.db.schema import runs
    from mltracker.service.search.filter_compiler import compile_run_filter
    from mltracker.service.search.filter_parser import parse_filter
    from mltracker.service.search.order_by import parse_run_order_by, run_ordering
    from mltracker.service.search.run_vocabulary import RunVocabulary

    dialect_name = "postgresql" if kind == "postgresql" else "sqlite"
    dialect = postgresql.dialect() if kind == "postgresql" else sqlite.dialect()
    label, filter_string, order_by = SHAPES[0]
    where = compile_run_filter(parse_filter(filter_string, RunVocabulary()), dialect_name)
    ordering = run_ordering(parse_run_order_by(order_by), dialect_name)
    query = (select(runs.c.run_uuid).select_from(ordering.source)
             .where(runs.c.experiment_id.in_([int(experiment_id)]), runs.c.lifecycle_stage.in_(["active"]), *where)
             .order_by(*ordering.clauses).limit(101))
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    with seeding.connect(kind, target) as db:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if kind == "postgresql" else "EXPLAIN QUERY PLAN "
        _cols, rows = db.rows(prefix + sql)
    print(f"-- {label}\n{sql}\n-- plan:")
    for row in rows:
        print("   ", row[-1] if kind == "sqlite" else row[0])
    print()


if __name__ == "__main__":
    sys.exit(main())
