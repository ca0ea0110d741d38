"""The benchmark workloads, run through the stock MLflow client.

Each workload run happens in its own process, forked from a runner that imported mlflow once (so
neither the import nor any state of an earlier run is in the figure). The runner reads one JSON
command per line on stdin and answers one JSON line on stdout:

    {"workload": "log_batch", "uri": "http://127.0.0.1:5001", "args": {"batches": 100}}

One workload can also be run by hand, e.g. while profiling a server:

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python benchmarks/workloads.py log_batch '{"batches": 50}'

Figures are wall-clock seconds measured inside the client process around the client calls only;
test data (Metric objects, request bodies) is built before the clock starts.
"""
from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback
from urllib.parse import urlsplit

# Shape of the data every workload logs; the ceiling server answers with the same shapes.
INGEST_PARAMS = 10
INGEST_TAGS = 5
INGEST_METRICS = 50
INGEST_STEPS = 20
BATCH_KEYS = 10
BATCH_STEPS = 100  # a log-batch call carries BATCH_KEYS × BATCH_STEPS = 1,000 points
SEARCH_PARAMS = 10
SEARCH_TAGS = 5
SEARCH_METRICS = 5
SEARCH_FILTER = "metrics.m0 > 0.5 and params.p0 = 'v3'"
SEARCH_ORDER_BY = ["metrics.m1 DESC"]
SEARCH_MAX_RESULTS = 100
HISTORY_KEY = "hist"
HISTORY_PAGE = 25000  # what the stock client asks for per page
T0 = 1_700_000_000_000


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def _quiet():
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)


# ---------------------------------------------------------------- set-up helpers (not timed)

def create_experiment(args: dict) -> dict:
    client = _client()
    return {"experiment_id": client.create_experiment(args["name"])}


def template_run(args: dict) -> dict:
    """One finished run with the search workload's shape; the seeder clones it in SQL."""
    from mlflow.entities import Metric, Param, RunTag

    client = _client()
    n_metrics = args.get("metrics", SEARCH_METRICS)
    run = client.create_run(args["experiment_id"], run_name="template")
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric(f"m{i}", 0.5, T0, 0) for i in range(n_metrics)],
        params=[Param(f"p{i}", "template") for i in range(args.get("params", SEARCH_PARAMS))],
        tags=[RunTag(f"t{i}", "template") for i in range(args.get("tags", SEARCH_TAGS))],
    )
    client.set_terminated(run_id)
    return {"run_id": run_id}


def history_run(args: dict) -> dict:
    """A run with one point of the history metric; the seeder adds the other steps in SQL."""
    from mlflow.entities import Metric

    client = _client()
    run_id = client.create_run(args["experiment_id"], run_name="history").info.run_id
    client.log_batch(run_id, metrics=[Metric(HISTORY_KEY, 0.0, T0, 0)])
    return {"run_id": run_id}


# ---------------------------------------------------------------- timed workloads

def ingest(args: dict) -> dict:
    """N concurrent writers (processes), each: create run, log-batch (params, tags, 1,000 points), end."""
    import multiprocessing as mp

    from mlflow.entities import Metric, Param, RunTag

    writers, runs_each, experiment_id = args["writers"], args["runs_per_writer"], args["experiment_id"]
    metrics = [
        Metric(f"metric_{k}", k * 0.01 + s * 0.001, T0 + s, s)
        for s in range(INGEST_STEPS) for k in range(INGEST_METRICS)
    ]
    params = [Param(f"param_{i}", f"value-{i}") for i in range(INGEST_PARAMS)]
    tags = [RunTag(f"tag_{i}", f"value-{i}") for i in range(INGEST_TAGS)]
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(writers + 1)
    errors = ctx.Queue()

    def writer():
        try:
            client = _client()
            barrier.wait()
            for _ in range(runs_each):
                run_id = client.create_run(experiment_id).info.run_id
                client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
                client.set_terminated(run_id)
        except Exception:
            errors.put(traceback.format_exc())
            raise

    procs = [ctx.Process(target=writer) for _ in range(writers)]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.perf_counter()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    if any(p.exitcode for p in procs):
        raise RuntimeError("ingest writer failed:\n" + (errors.get() if not errors.empty() else "?"))
    runs = writers * runs_each
    return {
        "seconds": elapsed,
        "runs": runs,
        "runs_per_s": runs / elapsed,
        "metrics_per_s": runs * len(metrics) / elapsed,
    }


def log_batch(args: dict) -> dict:
    """Sequential 1,000-point log-batch calls into one run."""
    from mlflow.entities import Metric

    client = _client()
    run_id = client.create_run(args["experiment_id"], run_name="log-batch").info.run_id
    batches = [
        [Metric(f"k{k}", (b * BATCH_STEPS + s) * 1e-3 + k, T0 + b, b * BATCH_STEPS + s)
         for k in range(BATCH_KEYS) for s in range(BATCH_STEPS)]
        for b in range(args["batches"])
    ]
    start = time.perf_counter()
    for batch in batches:
        client.log_batch(run_id, metrics=batch)
    elapsed = time.perf_counter() - start
    points = sum(len(b) for b in batches)
    return {"seconds": elapsed, "metrics": points, "metrics_per_s": points / elapsed, "run_id": run_id}


def history(args: dict) -> dict:
    client = _client()
    start = time.perf_counter()
    points = client.get_metric_history(args["run_id"], args.get("key", HISTORY_KEY))
    elapsed = time.perf_counter() - start
    if len(points) != args["expected"]:
        raise RuntimeError(f"history returned {len(points)} points, expected {args['expected']}")
    return {"seconds": elapsed, "points": len(points), "points_per_s": len(points) / elapsed}


def search(args: dict) -> dict:
    client = _client()
    latencies = []
    result = None
    for _ in range(args["queries"]):
        start = time.perf_counter()
        result = client.search_runs(
            [args["experiment_id"]],
            filter_string=args.get("filter", SEARCH_FILTER),
            order_by=args.get("order_by", SEARCH_ORDER_BY),
            max_results=args.get("max_results", SEARCH_MAX_RESULTS),
        )
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    return {
        "median_s": statistics.median(latencies),
        "p95_s": latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))],
        "min_s": latencies[0],
        "returned": len(result),
        # the metric values of the page: the same seed must give the same page on every server
        "fingerprint": [round(r.data.metrics.get("m1", -1.0), 6) for r in result[:5]],
    }


def artifacts(args: dict) -> dict:
    client = _client()
    path = args["path"]
    size = os.path.getsize(path)
    run_id = client.create_run(args["experiment_id"], run_name="artifacts").info.run_id
    # Each transfer starts with no dirty pages left by the step before it (the other server's upload,
    # which mlflow server does not fsync, or a download), which the kernel would make it wait behind.
    os.sync()
    start = time.perf_counter()
    client.log_artifact(run_id, path)
    upload = time.perf_counter() - start
    os.sync()
    with tempfile.TemporaryDirectory(dir=args.get("tmp_dir")) as dst:
        start = time.perf_counter()
        local = client.download_artifacts(run_id, os.path.basename(path), dst)
        download = time.perf_counter() - start
        got = os.path.getsize(local)
    if got != size:
        raise RuntimeError(f"downloaded {got} bytes, uploaded {size}")
    mb = size / 1e6
    return {"upload_s": upload, "download_s": download, "upload_mb_s": mb / upload, "download_mb_s": mb / download}


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))]


def training_loop(args: dict) -> dict:
    """One call per step, synchronous, the way most training scripts log: `log_metric`, `log_param`
    and `set_tag`, each timed per call (median and p99 per kind)."""
    client = _client()
    run_id = client.create_run(args["experiment_id"], run_name="training-loop").info.run_id
    calls = args.get("calls", 300)
    kinds = {
        "log_metric": lambda i: client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i),
        "log_param": lambda i: client.log_param(run_id, f"param_{i}", f"value-{i}"),
        "set_tag": lambda i: client.set_tag(run_id, "epoch", str(i)),
    }
    for call in kinds.values():  # the connection is open and warm before the clock starts
        call(calls)
    result = {}
    for name, call in kinds.items():
        latencies = []
        for i in range(calls):
            start = time.perf_counter()
            call(i)
            latencies.append(time.perf_counter() - start)
        latencies.sort()
        result[f"{name}_median_s"] = statistics.median(latencies)
        result[f"{name}_p99_s"] = _percentile(latencies, 0.99)
    result["calls"] = calls
    return result


def async_loop(args: dict) -> dict:
    """A training loop with MLFLOW_ENABLE_ASYNC_LOGGING: `log_metric` per step returns at once, the
    client sends the queued points as log-batch calls from its own threads; timed until the queue
    is flushed (every point acknowledged by the server)."""
    import mlflow

    steps = args.get("steps", 5000)
    with mlflow.start_run(experiment_id=args["experiment_id"], run_name="async-loop") as run:
        start = time.perf_counter()
        for i in range(steps):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i, synchronous=False)
        mlflow.flush_async_logging()
        elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "steps": steps, "steps_per_s": steps / elapsed, "run_id": run.info.run_id}


def capacity(args: dict) -> dict:
    """Server capacity: pre-encoded log-batch bodies over keep-alive connections, N at once.

    Not the MLflow client: its own cost would be the ceiling. Each connection logs into its own run;
    each body carries 1,000 points (10 keys × 100 steps) with a timestamp unique to the request, so
    every row is new on the server (no duplicate short-cuts on either side).
    """
    client = _client()
    conns, seconds = args.get("connections", 4), args["seconds"]
    run_ids = [client.create_run(args["experiment_id"], run_name=f"capacity-{i}").info.run_id for i in range(conns)]
    url = urlsplit(os.environ["MLFLOW_TRACKING_URI"])
    path = (url.path.rstrip("/") or "") + "/api/2.0/mlflow/runs/log-batch"

    def template(run_id: str) -> list[bytes]:
        metrics = [{"key": f"k{k}", "value": s * 1e-3 + k, "timestamp": "@TS@", "step": s}
                   for k in range(BATCH_KEYS) for s in range(BATCH_STEPS)]
        text = json.dumps({"run_id": run_id, "metrics": metrics}, separators=(",", ":"))
        return text.replace('"@TS@"', "@TS@").encode().split(b"@TS@")

    templates = [template(r) for r in run_ids]
    counts = [0] * conns
    dropped = [0] * conns
    failures: list[str] = []
    ready = threading.Barrier(conns + 1)
    stop_at = [0.0]

    def worker(index: int):
        parts = templates[index]
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        headers = {"Content-Type": "application/json"}
        seq = index * 10_000_000
        ready.wait()
        while time.perf_counter() < stop_at[0]:
            seq += 1
            body = str(T0 + seq).encode().join(parts)
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                # The server dropped the connection (e.g. a worker restarted): count it, reconnect.
                dropped[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
                if dropped[index] > 50:
                    failures.append(f"too many dropped connections: {exc!r}")
                    return
                continue
            if response.status != 200:
                failures.append(f"{response.status}: {data[:200]!r}")
                return
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + 10**6
    ready.wait()
    start = time.perf_counter()
    stop_at[0] = start + seconds
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError("capacity request failed: " + failures[0])
    requests = sum(counts)
    points = requests * BATCH_KEYS * BATCH_STEPS
    return {"seconds": elapsed, "requests": requests, "metrics_per_s": points / elapsed,
            "requests_per_s": requests / elapsed, "dropped_connections": sum(dropped)}


WORKLOADS = {
    "create_experiment": create_experiment,
    "template_run": template_run,
    "history_run": history_run,
    "ingest": ingest,
    "log_batch": log_batch,
    "history": history,
    "search": search,
    "artifacts": artifacts,
    "capacity": capacity,
    "training_loop": training_loop,
    "async_loop": async_loop,
}


# ---------------------------------------------------------------- runner

def _run_forked(command: dict) -> dict:
    """Run one workload in a fresh child process; return its JSON answer."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        # The client prints "View run …" links to stdout, which is the runner's answer channel.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        sys.stdout = open(1, "w", closefd=False)
        code = 0
        try:
            os.environ["MLFLOW_TRACKING_URI"] = command["uri"]
            answer = {"ok": True, "result": WORKLOADS[command["workload"]](command.get("args", {}))}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            code = 1
        with os.fdopen(write_fd, "w") as out:
            out.write(json.dumps(answer))
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd) as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    return json.loads(data) if data else {"ok": False, "error": "workload process died"}


def runner() -> None:
    _quiet()
    import mlflow  # noqa: F401 - imported once, inherited by every forked workload process
    from mlflow import MlflowClient  # noqa: F401
    from mlflow.entities import Metric  # noqa: F401

    # Warm what a first client call would import lazily, so no workload run pays for it.
    MlflowClient(tracking_uri="http://127.0.0.1:9")
    import mlflow.store.artifact.http_artifact_repo  # noqa: F401
    import mlflow.store.tracking.rest_store  # noqa: F401
    import mlflow.utils.rest_utils  # noqa: F401
    import requests  # noqa: F401

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        print(json.dumps(_run_forked(json.loads(line))), flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["runner"]:
        runner()
        return 0
    if not argv or argv[0] not in WORKLOADS:
        print(f"usage: workloads.py runner | workloads.py <{'|'.join(WORKLOADS)}> '<json args>'", file=sys.stderr)
        return 2
    _quiet()
    args = json.loads(argv[1]) if len(argv) > 1 else {}
    print(json.dumps(WORKLOADS[argv[0]](args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
