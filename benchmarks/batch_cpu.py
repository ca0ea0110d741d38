"""CPU per 1,000-point log-batch on PostgreSQL, in process (no HTTP, no JSON): the transaction of
runs.store_batch against the one statement of single_writes.log_metric_batch, alternating, with
this process's CPU and that of its PostgreSQL backends read from /proc (so the figures do not
depend on how loaded the machine is, as wall time does).

    .venv/bin/python benchmarks/batch_cpu.py [--rounds 6] [--batches 30]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from servers import pg_admin, pg_dsn, proc_table  # noqa: E402
from store_floor import batch_rows  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batches", type=int, default=30, help="batches per path and round")
    args = parser.parse_args(argv)

    import psycopg

    from mltracker.service.db.engine import Database
    from mltracker.service.db.migrate import upgrade
    from mltracker.service.tracking import experiments as exps
    from mltracker.service.tracking import runs as run_store
    from mltracker.service.tracking import single_writes

    name = f"batch_cpu_{os.getpid()}"
    pg_admin(f"CREATE DATABASE {name}")
    db = Database(pg_dsn(name))
    try:
        upgrade(db)
        project = 1
        with db.write() as conn:
            run_id = run_store.create_run(conn, project, exps.create_experiment(conn, project, "cpu"), "u", None,
                                          [], "r")
        counter = iter(range(1_000_000))

        def batch():
            return run_store.prepare_batch(run_id, [], [], [], metric_rows=batch_rows(run_id, next(counter)))

        paths = {
            "store_batch (a transaction)": lambda b: run_store.store_batch(db, project, b),
            "log_metric_batch (one statement)": lambda b: single_writes.log_metric_batch(db, project, b),
        }
        with psycopg.connect(pg_dsn(name), autocommit=True) as admin:
            def backend_cpu() -> float:
                pids = {r[0] for r in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,))}
                return sum(cpu for pid, (_, _, cpu) in proc_table().items() if pid in pids)

            results: dict[str, list[tuple[float, float, float]]] = {label: [] for label in paths}
            for write in paths.values():
                write(batch())  # warm-up: connections, prepared statements
            for _ in range(args.rounds):
                for label, write in paths.items():
                    batches = [batch() for _ in range(args.batches)]
                    cpu, pg, wall = time.process_time(), backend_cpu(), time.perf_counter()
                    for b in batches:
                        write(b)
                    results[label].append(((time.process_time() - cpu) / args.batches,
                                           (backend_cpu() - pg) / args.batches,
                                           (time.perf_counter() - wall) / args.batches))
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; medians of {args.rounds} rounds "
              f"of {args.batches} batches, per 1,000-point batch:")
        print("| path | this process CPU | PostgreSQL backend CPU | wall |")
        print("|---|---:|---:|---:|")
        for label, rows in results.items():
            own, pg, wall = (statistics.median(r[i] for r in rows) * 1000 for i in range(3))
            print(f"| {label} | {own:.2f} ms | {pg:.2f} ms | {wall:.1f} ms |")
    finally:
        db.dispose()
        pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
