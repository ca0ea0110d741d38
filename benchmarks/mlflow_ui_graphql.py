"""MLflow's web UI reading through /graphql, mltracker vs `mlflow server`, side by side on SQLite.

    .venv/bin/python benchmarks/mlflow_ui_graphql.py [--runs 200] [--reps 3]

Each server gets the same runs through the stock client (5 metrics × 100 steps, 10 params each).
Timed per repetition, alternating which server goes first, with the query texts of the installed
MLflow UI (read from its JavaScript): SearchRuns of 100 runs ×10, GetRun ×50 and
GetMetricHistoryBulkInterval of 50 runs ×10. Printed: medians and the ratio (mlflow's time /
mltracker's: above 1 means mltracker is faster).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from servers import OUR_BIN, SERVER_ENV, client_mlflow_bin, start_servers  # noqa: E402

SEED = r"""
import json, sys
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
url, n = sys.argv[1], int(sys.argv[2])
client = MlflowClient(url)
experiment_id = client.create_experiment("ui-bench")
ids = []
for i in range(n):
    run_id = client.create_run(experiment_id, run_name=f"run-{i}").info.run_id
    metrics = [Metric(f"m{k}", 1.0 / (s + 1 + i + k), 1_000 + s, s) for k in range(5) for s in range(100)]
    client.log_batch(run_id, metrics=metrics, params=[Param(f"p{k}", str(k * i)) for k in range(10)])
    client.set_terminated(run_id)
    ids.append(run_id)
print(json.dumps({"experiment_id": experiment_id, "run_ids": ids}))
"""

TIMED = r"""
import json, re, sys, time
from pathlib import Path
import mlflow, requests
url, seeded = sys.argv[1], json.loads(sys.argv[2])
js = Path(mlflow.__file__).parent / "server" / "js" / "build" / "static" / "js"
queries = {}
for path in js.glob("*.js"):
    for m in re.finditer(r"`(\s*query (\w+)[^`]*)`", path.read_text(errors="replace")):
        queries[m.group(2)] = m.group(1)
session = requests.Session()
def ask(name, variables):
    answer = session.post(url + "/graphql", json={"query": queries[name], "variables": variables}, timeout=300).json()
    assert answer["errors"] is None, answer["errors"]
    return answer["data"]
ids, timings = seeded["run_ids"], {}
start = time.perf_counter()
for _ in range(10):
    found = ask("SearchRuns", {"data": {"experimentIds": [seeded["experiment_id"]], "maxResults": 100}})
    assert len(found["mlflowSearchRuns"]["runs"]) == 100
timings["SearchRuns 100 ×10"] = time.perf_counter() - start
start = time.perf_counter()
for run_id in ids[:50]:
    ask("GetRun", {"data": {"runId": run_id}})
timings["GetRun ×50"] = time.perf_counter() - start
start = time.perf_counter()
for _ in range(10):
    ask("GetMetricHistoryBulkInterval", {"data": {"runIds": ids[:50], "metricKey": "m0"}})
timings["BulkInterval 50 runs ×10"] = time.perf_counter() - start
print(json.dumps(timings))
"""


def _python(script: str, *args: str) -> str:
    out = subprocess.run([str(OUR_BIN / "python"), "-c", script, *args], env={**os.environ, **SERVER_ENV},
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return out.stdout.strip().splitlines()[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ui-graphql-") as tmp:
        servers = start_servers("sqlite", Path(tmp), 2, mlflow_bin=client_mlflow_bin())
        try:
            seeded = {name: _python(SEED, s.url, str(args.runs)) for name, s in servers.items()}
            results: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
            for rep in range(args.reps):
                for name in (list(servers) if rep % 2 == 0 else list(reversed(servers))):
                    timings = json.loads(_python(TIMED, servers[name].url, seeded[name]))
                    for key, value in timings.items():
                        results[name].setdefault(key, []).append(value)
        finally:
            servers.stop()
    print(f"MLflow UI GraphQL, SQLite, {args.runs} runs, median of {args.reps} (load {os.getloadavg()[0]:.1f})")
    print(f"{'workload':<28}{'mlflow s':>10}{'mltracker s':>13}{'ratio':>8}")
    for key in results["mlflow"]:
        theirs, ours = statistics.median(results["mlflow"][key]), statistics.median(results["mltracker"][key])
        print(f"{key:<28}{theirs:>10.3f}{ours:>13.3f}{theirs / ours:>7.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
