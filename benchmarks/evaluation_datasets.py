"""Evaluation datasets, mltracker vs `mlflow server`, side by side on SQLite, through the stock client.

    .venv/bin/python benchmarks/evaluation_datasets.py [--records 2000] [--reps 3]

Per repetition, alternating which server goes first: create a dataset, `merge_records` N records
(the client sends them in one upsert), merge the same N again (every record updated), read them
back with `to_df()` (pages of 1,000), and `search_datasets` among 100 datasets. Both servers run
with 2 workers on their own SQLite file; the median of the repetitions is printed with the ratio
(mlflow's time / mltracker's: above 1 means mltracker is faster).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from servers import OUR_BIN, SERVER_ENV, client_mlflow_bin, start_servers  # noqa: E402

WORKLOAD = r"""
import json, sys, time, uuid
import mlflow
from mlflow.genai import datasets

url, n, phase = sys.argv[1], int(sys.argv[2]), sys.argv[3]
mlflow.set_tracking_uri(url)
experiment_id = mlflow.set_experiment(f"bench-{uuid.uuid4().hex[:6]}").experiment_id
records = [{"inputs": {"question": f"question {i}?", "context": ["a", "b"]},
            "expectations": {"expected_response": f"answer {i}"}} for i in range(n)]
timings = {}
if phase == "records":
    dataset = datasets.create_dataset(name=f"bench-{uuid.uuid4().hex[:6]}", experiment_id=experiment_id)
    start = time.perf_counter(); dataset.merge_records(records); timings["merge_new"] = time.perf_counter() - start
    start = time.perf_counter(); dataset.merge_records(records); timings["merge_existing"] = time.perf_counter() - start
    fresh = datasets.get_dataset(dataset_id=dataset.dataset_id)
    start = time.perf_counter(); frame = fresh.to_df(); timings["to_df"] = time.perf_counter() - start
    assert len(frame) == n, len(frame)
else:
    prefix = uuid.uuid4().hex[:6]
    for i in range(100):
        datasets.create_dataset(name=f"{prefix}-{i:03d}", experiment_id=experiment_id, tags={"i": str(i % 10)})
    start = time.perf_counter()
    for _ in range(20):
        found = datasets.search_datasets(filter_string=f"name LIKE '{prefix}%' AND tags.i = '3'", max_results=100)
        assert len(found) == 10, len(found)
    timings["search_x20"] = time.perf_counter() - start
print(json.dumps(timings))
"""


def run_workload(url: str, records: int, phase: str) -> dict:
    import json

    env = {**os.environ, **SERVER_ENV}
    out = subprocess.run([str(OUR_BIN / "python"), "-c", WORKLOAD, url, str(records), phase], env=env,
                         capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-eval-ds-") as tmp:
        servers = start_servers("sqlite", Path(tmp), 2, mlflow_bin=client_mlflow_bin())
        try:
            results: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
            for rep in range(args.reps):
                order = list(servers) if rep % 2 == 0 else list(reversed(servers))
                for phase in ("records", "search"):
                    for name in order:
                        for key, value in run_workload(servers[name].url, args.records, phase).items():
                            results[name].setdefault(key, []).append(value)
        finally:
            servers.stop()
    print(f"evaluation datasets, SQLite, {args.records} records, median of {args.reps} (load {os.getloadavg()[0]:.1f})")
    print(f"{'workload':<16}{'mlflow s':>10}{'mltracker s':>13}{'ratio':>8}")
    for key in results["mlflow"]:
        theirs, ours = statistics.median(results["mlflow"][key]), statistics.median(results["mltracker"][key])
        print(f"{key:<16}{theirs:>10.3f}{ours:>13.3f}{theirs / ours:>7.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
