"""Registry webhooks, mltracker vs `mlflow server`, side by side: registry writes that fire an
event, and how long until every delivery has reached the receiver.

    .venv/bin/python benchmarks/registry_webhooks.py                    # SQLite, 3 repetitions
    .venv/bin/python benchmarks/registry_webhooks.py --backends sqlite,postgresql --reps 5

Each server gets a webhook (with a secret) listening to `model_version_tag.set`, pointing at a
receiver in this process that answers 200. A phase sends N `set-tag` requests from one client
(each one event), then waits for the N deliveries: writes/s is what the client sees, deliveries/s
counts from the first request to the last delivery. mlflow sends from a thread pool inside the
server; mltracker stores each delivery in the write's transaction and its job worker sends it.
Repetitions alternate the order of the servers; medians and their ratio are printed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from servers import OUR_BIN, log, start_servers  # noqa: E402
from tests.mlflow_compat.webhook_receiver import Receiver  # noqa: E402

API = "/api/2.0/mlflow"
HOOK_ENV = {"MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true", "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
            "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": Fernet.generate_key().decode()}


def prepare(session: requests.Session, url: str, receiver: Receiver, path: str) -> str:
    """A model with one version and a webhook on its tags; the model's name."""
    def call(method: str, endpoint: str, body: dict) -> dict:
        response = session.request(method, url + API + endpoint, json=body, timeout=120)
        response.raise_for_status()
        return response.json()

    name = f"bench-{os.getpid()}"
    call("POST", "/registered-models/create", {"name": name})
    experiment = call("POST", "/experiments/create", {"name": name})["experiment_id"]
    run = call("POST", "/runs/create", {"experiment_id": experiment})["run"]["info"]
    call("POST", "/model-versions/create", {"name": name, "source": run["artifact_uri"] + "/model",
                                            "run_id": run["run_id"]})
    call("POST", "/webhooks", {"name": "bench", "url": receiver.url + path, "secret": "bench-secret",
                               "events": [{"entity": "MODEL_VERSION_TAG", "action": "SET"}]})
    return name


def phase(session: requests.Session, url: str, name: str, receiver: Receiver, path: str, count: int,
          rep: int) -> tuple[float, float]:
    already = len(receiver.at(path))
    start = time.perf_counter()
    for index in range(count):
        response = session.post(url + API + "/model-versions/set-tag", timeout=120,
                                json={"name": name, "version": "1", "key": f"r{rep}", "value": str(index)})
        response.raise_for_status()
    written = time.perf_counter() - start
    receiver.wait_for(path, already + count, timeout=600)
    delivered = time.perf_counter() - start
    got = receiver.at(path)[already:]
    if not all(r.signature_valid("bench-secret") for r in got):
        raise RuntimeError(f"{url}: a delivery's signature does not verify")
    return count / written, count / delivered


def bench_backend(backend: str, args) -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-hooks-{backend}-"))
    servers = start_servers(backend, workdir, args.workers, mlflow_bin=args.mlflow_bin, label="bench_hooks",
                            env=HOOK_ENV)
    lines = []
    try:
        with Receiver() as receiver:
            sessions = {name: requests.Session() for name in servers}
            paths = {name: f"/{name}" for name in servers}
            models = {name: prepare(sessions[name], s.url, receiver, paths[name]) for name, s in servers.items()}
            for name, server in servers.items():  # warm-up
                phase(sessions[name], server.url, models[name], receiver, paths[name], 10, -1)
            writes = {name: [] for name in servers}
            deliveries = {name: [] for name in servers}
            for rep in range(args.reps):
                order = list(servers) if rep % 2 == 0 else list(servers)[::-1]
                for name in order:
                    w, d = phase(sessions[name], servers[name].url, models[name], receiver, paths[name],
                                 args.count, rep)
                    writes[name].append(w)
                    deliveries[name].append(d)
            for label, values in (("writes/s", writes), ("deliveries/s", deliveries)):
                ours, theirs = statistics.median(values["mltracker"]), statistics.median(values["mlflow"])
                line = (f"{backend:10} {label:13} mltracker {ours:8,.1f}  mlflow {theirs:8,.1f}  "
                        f"ratio {ours / theirs:5.2f}x  ({args.count} events, {args.reps} reps)")
                log(line)
                lines.append(line)
    finally:
        servers.stop()
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--count", type=int, default=200, help="events per phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mlflow-bin", default=str(OUR_BIN / "mlflow"),
                        help="the mlflow executable to serve with (default: the test environment's, mlflow 3.17)")
    args = parser.parse_args(argv)
    lines = []
    for backend in args.backends.split(","):
        lines += bench_backend(backend.strip(), args)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
