"""CPU per request of one training-loop call (log-metric, log-parameter or set-tag), measured from
/proc, so that it does not depend much on the machine's load: `mltracker serve` (one worker) next
to the do-nothing server (ceiling_server.py), optionally next to another checkout's `mltracker`,
each driven by one raw keep-alive HTTP client, alternating server by server, several rounds.

    .venv/bin/python benchmarks/request_cpu.py --backend sqlite
    .venv/bin/python benchmarks/request_cpu.py --backend postgresql --route set-tag --requests 2000
    .venv/bin/python benchmarks/request_cpu.py --other /path/to/other/checkout/.venv/bin/mltracker

Prints, per server: CPU µs per request of its processes (median of the rounds, and the range),
on PostgreSQL also of the database backends serving it, context switches per request, and the
client's median latency (which includes the commit's wait, so it follows the disk).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import servers as server_module  # noqa: E402
from servers import Server, free_port, pg_dsn, proc_table, start_servers  # noqa: E402

ROUTES = ("log-metric", "log-parameter", "set-tag")


def _switches(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                for line in Path(f"/proc/{pid}/task/{task}/status").read_text().splitlines():
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
            except OSError:
                pass
    return total


def _cpu(pids: list[int]) -> float:
    table = proc_table()
    return sum(table[pid][2] for pid in pids if pid in table)


def _backends(database: str | None) -> list[int]:
    if not database:
        return []
    import psycopg

    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]


class Target:
    """One server and a kept-alive connection to it, with a run to log into."""

    def __init__(self, name: str, server: Server, database: str | None):
        self.name, self.server, self.database = name, server, database
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port)
        self.steps = 0
        experiment = self.post("experiments/create", {"name": f"cpu-{time.time_ns()}"}).get("experiment_id", "1")
        self.run_id = self.post("runs/create", {"experiment_id": experiment})["run"]["info"]["run_id"]

    def post(self, path: str, body: dict) -> dict:
        data = json.dumps(body)
        headers = {"Content-Type": "application/json", "User-Agent": "mlflow-python-client"}
        for attempt in (1, 2):  # a connection the server closed while it sat idle is opened again
            try:
                self.conn.request("POST", f"/api/2.0/mlflow/{path}", data, headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                self.conn.close()
                if attempt == 2:
                    raise
        if response.status != 200:
            raise RuntimeError(f"{self.name}: {path} answered {response.status}: {payload[:300]!r}")
        return json.loads(payload)

    def call(self, route: str) -> None:
        step = self.steps
        self.steps += 1
        if route == "log-metric":
            body = {"run_id": self.run_id, "key": "loss", "value": 1.0 / (step + 1),
                    "timestamp": 1_700_000_000_000 + step, "step": step}
        elif route == "log-parameter":
            body = {"run_id": self.run_id, "key": f"param_{step}", "value": f"value-{step}"}
        else:
            body = {"run_id": self.run_id, "key": "epoch", "value": str(step)}
        self.post(f"runs/{route}", body)


def measure(targets: list[Target], route: str, requests: int, rounds: int) -> dict:
    results = {t.name: {"cpu": [], "db": [], "switches": [], "latency": []} for t in targets}
    for _ in range(rounds):
        for target in targets:
            for _ in range(50):
                target.call(route)
            pids = target.server.pids()
            backends = _backends(target.database)
            cpu, db, switches = _cpu(pids), _cpu(backends), _switches(pids)
            latencies = []
            for _ in range(requests):
                start = time.perf_counter()
                target.call(route)
                latencies.append(time.perf_counter() - start)
            got = results[target.name]
            got["cpu"].append((_cpu(pids) - cpu) / requests * 1e6)
            got["db"].append((_cpu(backends) - db) / requests * 1e6)
            got["switches"].append((_switches(pids) - switches) / requests)
            got["latency"].append(statistics.median(latencies) * 1e6)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--route", choices=ROUTES + ("all",), default="all")
    parser.add_argument("--requests", type=int, default=1000, help="per server and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--other", help="another checkout's `mltracker` executable, measured alongside")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="request-cpu-"))
    sets, servers = [], {}
    try:
        ours = start_servers(args.backend, workdir / "this", 1, names=("mltracker",), label="reqcpu")
        sets.append(ours)
        servers["mltracker"] = (ours["mltracker"], ours.databases[0] if ours.databases else None)
        if args.other:
            other = _start_other(args, workdir / "other")
            sets.append(other)
            servers["other"] = (other["mltracker"], other.databases[0] if other.databases else None)
        port = free_port()
        ceiling = Server("ceiling", [sys.executable, str(BENCH / "ceiling_server.py"), "--port", str(port),
                                     "--history-steps", "10", "--download-mb", "1"], port, workdir / "ceiling.log")
        ceiling.start().wait_ready()
        servers["ceiling"] = (ceiling, None)
        targets = [Target(name, server, database) for name, (server, database) in servers.items()]
        load = os.getloadavg()[0]
        for route in ROUTES if args.route == "all" else (args.route,):
            results = measure(targets, route, args.requests, args.rounds)
            print(f"\n{args.backend}, {route}: {args.requests} requests x {args.rounds} rounds per server, "
                  f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
            print(f"{'server':<10} {'CPU us/request':>22} {'database us/request':>20} {'switches':>9} {'latency us':>11}")
            for name, got in results.items():
                cpu = got["cpu"]
                db = f"{statistics.median(got['db']):.0f}" if servers[name][1] else "-"
                print(f"{name:<10} {statistics.median(cpu):>8.0f} ({min(cpu):.0f}-{max(cpu):.0f}){'':>4} {db:>20} "
                      f"{statistics.median(got['switches']):>9.2f} {statistics.median(got['latency']):>11.0f}")
    finally:
        for name, (server, _) in servers.items():
            if name == "ceiling":
                server.stop()
        for server_set in sets:
            server_set.stop()


def _start_other(args, workdir: Path):
    """The other checkout's server, on its own store of the same backend."""
    original = server_module.OUR_BIN
    server_module.OUR_BIN = Path(args.other).parent
    try:
        return start_servers(args.backend, workdir, 1, names=("mltracker",), label="reqcpu_other")
    finally:
        server_module.OUR_BIN = original


if __name__ == "__main__":
    main()
