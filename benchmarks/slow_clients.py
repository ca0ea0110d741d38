"""How a server answers while slow clients hold connections open.

Opens N connections that send their request a byte at a time (half trickle their headers, half a
small JSON body after complete headers), keeps them trickling, and meanwhile times `/health` and
an API read (`experiments/search`) from a normal client.

    python benchmarks/slow_clients.py                   # starts `mltracker serve` (SQLite) itself
    python benchmarks/slow_clients.py --url http://127.0.0.1:5000 --connections 256
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def started_server(workers: int):
    tmp = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRACKER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mltracker.service.cli", "serve", "--port", str(port), "--workers", str(workers),
         "--backend-store-uri", f"sqlite:///{tmp}/m.db", "--artifacts-destination", str(tmp / "artifacts")],
        cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/health", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class SlowClients:
    """N connections, each sent one more byte every `interval` seconds by one thread."""

    def __init__(self, url: str, count: int, interval: float = 0.5):
        host, port = url.split("//")[1].split(":")
        self.address = (host, int(port.rstrip("/")))
        self.count, self.interval = count, interval
        self.stop = threading.Event()
        self.open = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        deadline = time.monotonic() + 30
        while self.open < self.count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc):
        self.stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        body = b'{"name": "' + b"s" * 1900 + b'"}'
        pending = []
        for i in range(self.count):
            sock = socket.create_connection(self.address, timeout=10)
            if i % 2:
                sock.sendall(b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
                pending.append([sock, body])
            else:
                pending.append([sock, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"h" * 4000 + b"\r\n\r\n"])
            self.open += 1
        while not self.stop.wait(self.interval):
            for item in pending:
                sock, rest = item
                if rest:
                    try:
                        sock.send(rest[:1])
                        item[1] = rest[1:]
                    except OSError:
                        item[1] = b""
        for sock, _ in pending:
            sock.close()


def timed(url: str, samples: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"health": [], "api read": []}
    for _ in range(samples):
        for name, path in (("health", "/health"), ("api read", "/api/2.0/mlflow/experiments/search?max_results=10")):
            start = time.perf_counter()
            try:
                requests.get(url + path, timeout=30).raise_for_status()
                timings[name].append(time.perf_counter() - start)
            except requests.RequestException:
                timings[name].append(float("inf"))
        time.sleep(0.1)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--settle", type=float, default=7.0, help="seconds between opening and timing")
    args = parser.parse_args()
    with (contextmanager(lambda: iter([args.url]))() if args.url else started_server(args.workers)) as url:
        with SlowClients(url, args.connections) as slow:
            time.sleep(args.settle)  # past gunicorn's 5 s wait for a first byte
            timings = timed(url, args.samples)
            print(f"{slow.open} slow connections open, {args.samples} samples each")
        for name, values in timings.items():
            finite = [v for v in values if v != float("inf")]
            failed = len(values) - len(finite)
            if finite:
                print(f"  {name:9s} p50 {statistics.median(finite) * 1000:7.1f} ms   "
                      f"max {max(finite) * 1000:7.1f} ms   failed/timed out (30 s): {failed}")
            else:
                print(f"  {name:9s} every request failed or timed out (30 s)")


if __name__ == "__main__":
    main()
