"""Span ingestion, mltracker vs `mlflow server`, side by side: OTLP export requests to /v1/traces.

    .venv/bin/python benchmarks/span_ingestion.py                      # SQLite, 3 repetitions
    .venv/bin/python benchmarks/span_ingestion.py --backends sqlite,postgresql --reps 5

Both servers run on the same backend kind with the same worker count. The requests are built
before the clock starts (protobuf ExportTraceServiceRequest, as the MLflow 3 client sends them) and
sent over keep-alive connections from threads, so the load generator costs little. Two shapes:

- `per-span`: one span per request, as the MLflow client exports each span when it ends;
- `batched`: one request per trace of 100 spans, as an OpenTelemetry batch span processor sends.

Each repetition runs the servers in alternating order; the medians and their ratio are printed,
with the servers' peak memory (the sum of VmHWM over the server's processes, reset per phase).
Every response must be 200, and each server must then return the last trace with all its spans.
"""
from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from servers import OUR_BIN, log, proc_status_kb, reset_peak_rss, start_servers  # noqa: E402

# spans per request, requests (at --scale 1), connections
SHAPES = {"per-span": (1, 1000, 4), "batched": (100, 30, 2)}


def build_requests(spans_per_request: int, count: int) -> tuple[list[bytes], str]:
    """Serialized export requests; spans of one trace share a trace id and hang off its first span.
    Returns the bodies and the MLflow id of the last trace."""
    bodies, trace_hex = [], ""
    spans_per_trace = max(spans_per_request, 5)
    now = time.time_ns()
    trace_id = root = b""
    for index in range(count):
        request = ExportTraceServiceRequest()
        scope = request.resource_spans.add().scope_spans.add()
        for offset in range(spans_per_request):
            position = (index * spans_per_request + offset) % spans_per_trace
            if position == 0:
                trace_id, root = os.urandom(16), b""
            span = scope.spans.add()
            span.trace_id, span.span_id = trace_id, os.urandom(8)
            if root:
                span.parent_span_id = root
            else:
                root = span.span_id
            span.name = f"step-{position}"
            span.start_time_unix_nano = now + position * 1000
            span.end_time_unix_nano = now + position * 1000 + 500
            span.status.code = 1
            for key, value in (("mlflow.spanType", "LLM"), ("mlflow.traceRequestId", f"tr-{trace_id.hex()}"),
                               ("mlflow.spanInputs", '{"messages": [{"role": "user", "content": "hi"}]}'),
                               ("mlflow.spanOutputs", '{"content": "hello there"}')):
                attribute = span.attributes.add()
                attribute.key, attribute.value.string_value = key, value
        bodies.append(request.SerializeToString())
        trace_hex = trace_id.hex()
    return bodies, f"tr-{trace_hex}"


def send_all(url: str, experiment_id: str, bodies: list[bytes], connections: int) -> float:
    host, port = url.removeprefix("http://").split(":")
    headers = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}
    failures: list[str] = []

    def worker(part: list[bytes]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        for body in part:
            conn.request("POST", "/v1/traces", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                failures.append(f"{response.status} {data[:200]!r}")
                return
        conn.close()

    threads = [threading.Thread(target=worker, args=(bodies[i::connections],)) for i in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{url}: {failures[0]}")
    return elapsed


def span_count(url: str, trace_id: str) -> int:
    response = requests.get(f"{url}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, timeout=60)
    response.raise_for_status()
    return len(response.json()["trace"]["spans"])


def bench_backend(backend: str, args) -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-spans-{backend}-"))
    servers = start_servers(backend, workdir, args.workers, mlflow_bin=args.mlflow_bin, label="bench_spans")
    lines = []
    try:
        experiments = {}
        for name, server in servers.items():
            response = requests.post(f"{server.url}/api/2.0/mlflow/experiments/create",
                                     json={"name": "span-bench"}, timeout=60)
            response.raise_for_status()
            experiments[name] = response.json()["experiment_id"]
            warm, _ = build_requests(1, 50)
            send_all(server.url, experiments[name], warm, 2)
        for shape, (per_request, count, connections) in SHAPES.items():
            count = max(1, round(count * args.scale))
            rates = {name: [] for name in servers}
            peaks = {name: [] for name in servers}
            for rep in range(args.reps):
                order = list(servers) if rep % 2 == 0 else list(servers)[::-1]
                for name in order:
                    server = servers[name]
                    bodies, last_trace = build_requests(per_request, count)
                    pids = server.pids()
                    reset_peak_rss(pids)
                    elapsed = send_all(server.url, experiments[name], bodies, connections)
                    peaks[name].append(sum(proc_status_kb(pid, "VmHWM") for pid in server.pids()) / 1024)
                    stored = span_count(server.url, last_trace)
                    expected = min(per_request * count, max(per_request, 5))
                    if stored != expected:
                        raise RuntimeError(f"{name}: the last trace has {stored} spans, not {expected}")
                    rates[name].append(per_request * count / elapsed)
            ours, theirs = statistics.median(rates["mltracker"]), statistics.median(rates["mlflow"])
            line = (f"{backend:10} {shape:9} spans/s mltracker {ours:9,.0f}  mlflow {theirs:9,.0f}  "
                    f"ratio {ours / theirs:5.2f}x   peak memory MB mltracker {statistics.median(peaks['mltracker']):6.0f}"
                    f"  mlflow {statistics.median(peaks['mlflow']):6.0f}")
            log(line)
            lines.append(line)
    finally:
        servers.stop()
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the number of requests per phase")
    parser.add_argument("--mlflow-bin", default=str(OUR_BIN / "mlflow"),
                        help="the mlflow executable to serve with (default: the test environment's, mlflow 3.17)")
    args = parser.parse_args(argv)
    lines = []
    for backend in args.backends.split(","):
        lines.extend(bench_backend(backend.strip(), args))
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
