"""`mltracker import mlflow` vs `mlflow-export-import` (export-experiment + import-experiment), the
tool teams use today, on the same source: a real `mlflow server` seeded through the stock client.

Both end in the same place, an mltracker store (SQLite + local folder): mltracker import writes the
store directly; mlflow-export-import exports to a folder and imports through mltracker's MLflow API,
as it would into any MLflow server. Figures: wall time and runs/s of the whole copy (the two tools
alternate, --rounds times, on the same source; medians), points/s, the CPU seconds each copy cost
the source server (read from /proc: the load of a shared machine does not change them), and the
importer's peak memory on a short and on a long history (it must stay flat).

The source's ceiling: the reads an import cannot do without — the runs page, every metric point
(MLflow's bulk history route) and every artifact, with the import's workers, nothing written —
timed against the same server alone.

    python benchmarks/import_vs_export_import.py [--runs 40] [--steps 500] [--long-steps 200000] [--rounds 3]

mlflow-export-import comes from PyPI, in a virtual environment of its own that uses this
environment's mlflow (its pinned requirements would replace it):

    python3 -m venv /tmp/eei && /tmp/eei/bin/pip install mlflow-export-import --no-deps tabulate shortuuid
    .venv/bin/python -c 'import mlflow, pathlib; print(pathlib.Path(mlflow.__file__).parents[1])' \
        > /tmp/eei/lib/python3.11/site-packages/mlflow-of-the-repo.pth

and give its bin folder with --export-import-bin (default: next to this Python).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import MLFLOW_UVICORN_OPTS, SERVER_ENV  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "import_results.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 900, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode} before answering")
        try:
            if requests.get(url, timeout=10).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


def clean_env(**extra) -> dict:
    """No MLFLOW_/MLTRACKER_ settings of the caller's; telemetry off for every process (the servers
    and both tools alike)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRACKER_"))}
    env.update(SERVER_ENV)
    env.update(extra)
    return env


class Server:
    def __init__(self, command: list[str], url: str, cwd: Path):
        self.url = url
        self.proc = subprocess.Popen(command, cwd=cwd, env=clean_env(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for(url + "/health", proc=self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def mlflow_server(tmp: Path) -> Server:
    port = free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    return Server([str(mlflow), "server", "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
                   "--artifacts-destination", str(tmp / "mlartifacts"), "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "2", *MLFLOW_UVICORN_OPTS], f"http://127.0.0.1:{port}", tmp)


def mltracker_server(tmp: Path) -> Server:
    port = free_port()
    return Server([sys.executable, "-m", "mltracker.service.cli", "serve", "--port", str(port), "--workers", "2",
                   "--backend-store-uri", f"sqlite:///{tmp}/mltracker.db", "--artifacts-destination",
                   str(tmp / "artifacts")], f"http://127.0.0.1:{port}", tmp)


def seed(url: str, experiment: str, runs: int, steps: int, metrics: int = 3) -> int:
    """Runs with params, tags, `metrics` histories of `steps` points and a 100 KB artifact; returns points."""
    os.environ["MLFLOW_TRACKING_URI"] = url
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(url)
    experiment_id = client.create_experiment(experiment)
    blob = Path(tempfile.mkdtemp()) / "weights.bin"
    blob.write_bytes(os.urandom(100_000))
    now = int(time.time() * 1000)
    for n in range(runs):
        run = client.create_run(experiment_id, run_name=f"run-{n}")
        client.log_batch(run.info.run_id, params=[Param(f"p{i}", str(i * n)) for i in range(5)],
                         tags=[RunTag(f"t{i}", f"v{i}") for i in range(5)])
        points = [Metric(f"m{k}", 1.0 / (s + 1) + k, now + s, s) for s in range(steps) for k in range(metrics)]
        for start in range(0, len(points), 1000):
            client.log_batch(run.info.run_id, metrics=points[start:start + 1000])
        client.log_artifact(run.info.run_id, str(blob))
        client.set_terminated(run.info.run_id)
    return runs * steps * metrics


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children still running (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


IDLE_PROBE_S = 20


def idle_cpu_rate(source: Server) -> float:
    """CPU seconds per second the source spends with nothing to serve (uvicorn's supervisor, mlflow's
    job runner): taken off each copy's figure in proportion to its wall time, so that the slower
    tool is not charged for the server's background."""
    before = cpu_seconds(source.proc.pid)
    time.sleep(IDLE_PROBE_S)
    return (cpu_seconds(source.proc.pid) - before) / IDLE_PROBE_S


def timed(command: list[str], env: dict, cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB, user + system CPU seconds of the command)."""
    started = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *command], env=env, cwd=cwd, capture_output=True,
                          text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    peak_kb, user, system = proc.stderr.strip().splitlines()[-1].split()
    return elapsed, int(peak_kb) / 1024, float(user) + float(system)


@dataclass
class Copy:
    wall_s: float
    peak_mb: float
    own_cpu_s: float  # the copying tool's processes (mlflow-export-import: export and import commands)
    source_cpu_s: float  # what the copy cost the source server
    target_cpu_s: float = 0.0  # what it cost the receiving server (mltracker import writes the store itself)


def mltracker_import(source: Server, experiment: str, tmp: Path, workers: int, idle_rate: float = 0.0) -> Copy:
    before = cpu_seconds(source.proc.pid)
    wall, peak, cpu = timed([sys.executable, "-m", "mltracker.service.cli", "import", "mlflow", source.url,
                             "--experiment", experiment, "--workers", str(workers),
                             "--backend-store-uri", f"sqlite:///{tmp}/mltracker.db",
                             "--artifacts-destination", str(tmp / "artifacts")],
                            clean_env(), tmp)
    return Copy(wall, peak, cpu, cpu_seconds(source.proc.pid) - before - idle_rate * wall)


def export_import(bin_dir: Path, source: Server, experiment: str, tmp: Path, idle_rate: float) -> Copy:
    target = mltracker_server(tmp)
    try:
        out = tmp / "export"
        before = cpu_seconds(source.proc.pid)
        export_s, _, export_cpu = timed([str(bin_dir / "export-experiment"), "--experiment", experiment,
                                         "--output-dir", str(out)], clean_env(MLFLOW_TRACKING_URI=source.url), tmp)
        source_cpu = cpu_seconds(source.proc.pid) - before - idle_rate * export_s
        target_before = cpu_seconds(target.proc.pid)
        import_s, _, import_cpu = timed([str(bin_dir / "import-experiment"), "--experiment-name", experiment,
                                         "--input-dir", str(out)], clean_env(MLFLOW_TRACKING_URI=target.url), tmp)
        target_cpu = cpu_seconds(target.proc.pid) - target_before
    finally:
        target.stop()
    return Copy(export_s + import_s, 0.0, export_cpu + import_cpu, source_cpu, target_cpu)


@dataclass
class Reads:
    wall_s: float
    source_cpu_s: float  # all of it
    histories_cpu_s: float  # of which: every metric point
    requests: int


def source_reads_alone(source: Server, experiment: str, workers: int, idle_rate: float) -> Reads:
    """The fewest reads a copy cannot do without, nothing written, against the same server alone:
    one runs page; every point through MLflow's bulk history route, each request as full as the
    route allows (100 runs, 25,000 points); every artifact folder listed once and every file
    read once. Histories first, then artifacts, so the two costs are told apart."""
    from concurrent.futures import ThreadPoolExecutor

    from mltracker.service.importer.artifacts_copy import proxied_path
    from mltracker.service.importer.metrics_copy import read_histories
    from mltracker.service.importer.source import SourceClient

    client = SourceClient(source.url, env={}, pool_size=max(4, workers * 2))
    calls = [0]
    send = client.session.send

    def counted(*args, **kwargs):
        calls[0] += 1
        return send(*args, **kwargs)

    client.session.send = counted
    experiment_id = client.get("api/2.0/mlflow/experiments/get-by-name", experiment_name=experiment)["experiment"]["experiment_id"]
    before, started = cpu_seconds(source.proc.pid), time.monotonic()
    runs = [run for page in client.run_pages(experiment_id) for run in page]
    run_ids = [run["info"]["run_id"] for run in runs]
    keys = sorted({m["key"] for run in runs for m in run["data"].get("metrics", [])})

    def history(key: str) -> int:
        return sum(len(piece) for _, piece in read_histories(client, run_ids, key))

    def artifacts(run: dict) -> None:
        pending = [proxied_path(run["info"]["artifact_uri"])]
        while pending:
            folder = pending.pop()
            for entry in client.list_artifacts(folder):
                path = f"{folder}/{entry.path.rsplit('/', 1)[-1]}"
                if entry.is_dir:
                    pending.append(path)
                else:
                    with client.open_artifact(path) as response:
                        for _ in response.iter_content(1024 * 1024):
                            pass

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(history, keys))
        histories_cpu = cpu_seconds(source.proc.pid) - before - idle_rate * (time.monotonic() - started)
        list(pool.map(artifacts, runs))
    wall = time.monotonic() - started
    return Reads(wall, cpu_seconds(source.proc.pid) - before - idle_rate * wall, histories_cpu, calls[0] - 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--long-steps", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="alternating copies by each tool (medians reported)")
    parser.add_argument("--export-import-bin", type=Path, default=Path(sys.executable).parent)
    args = parser.parse_args()
    if not (args.export_import_bin / "export-experiment").exists():
        print(f"mlflow-export-import not found in {args.export_import_bin}", file=sys.stderr)
        return 2

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                      text=True).stdout.strip():
        commit += " with uncommitted changes"
    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    load_start = os.getloadavg()
    (work / "source").mkdir()
    source = mlflow_server(work / "source")
    try:
        points = seed(source.url, "bench", args.runs, args.steps)
        long_points = seed(source.url, "long", 1, args.long_steps, metrics=1)
        short_points = seed(source.url, "short", 1, args.steps, metrics=1)

        idle_rate = idle_cpu_rate(source)
        ours, theirs, alone = [], [], []
        for n in range(args.rounds):
            (work / f"ours{n}").mkdir()
            ours.append(mltracker_import(source, "bench", work / f"ours{n}", args.workers, idle_rate))
            alone.append(source_reads_alone(source, "bench", args.workers, idle_rate))
            (work / f"theirs{n}").mkdir()
            theirs.append(export_import(args.export_import_bin, source, "bench", work / f"theirs{n}", idle_rate))
            print(f"round {n + 1}: mltracker {ours[-1].wall_s:.1f} s, source alone {alone[-1].wall_s:.1f} s, "
                  f"mlflow-export-import {theirs[-1].wall_s:.1f} s", flush=True)
        ours_s, theirs_s = statistics.median(c.wall_s for c in ours), statistics.median(c.wall_s for c in theirs)
        alone_s = statistics.median(a.wall_s for a in alone)
        ratios = sorted(t.wall_s / o.wall_s for o, t in zip(ours, theirs))
        rows = [
            ("runs copied per second (median)", f"{args.runs / theirs_s:.2f}", f"{args.runs / ours_s:.2f}",
             f"**{theirs_s / ours_s:.1f}×**"),
            ("ratio in each round (same moment, alternating)", "", "", " / ".join(f"{r:.1f}×" for r in ratios)),
            ("wall time (median)", f"{theirs_s:.1f} s", f"{ours_s:.1f} s", ""),
            ("metric points per second", f"{points / theirs_s:,.0f}", f"{points / ours_s:,.0f}", ""),
            (f"CPU seconds the copy cost the source server (median; its idle {idle_rate:.3f} CPU s/s taken off)",
             f"{statistics.median(c.source_cpu_s for c in theirs):.1f}",
             f"{statistics.median(c.source_cpu_s for c in ours):.1f}", ""),
            ("CPU seconds of the copying tool itself (median)", f"{statistics.median(c.own_cpu_s for c in theirs):.1f}",
             f"{statistics.median(c.own_cpu_s for c in ours):.1f}", ""),
            ("source alone: the fewest reads a copy needs, nothing written (median)", "",
             f"{alone_s:.1f} s, {statistics.median(a.source_cpu_s for a in alone):.1f} CPU s on the source "
             f"in {alone[0].requests} requests", f"import at {100 * alone_s / ours_s:.0f}% of it"),
            ("of which serving the metric points (MLflow's bulk history route)", "",
             f"{statistics.median(a.histories_cpu_s for a in alone):.1f} CPU s for {points:,} points", ""),
        ]
        theirs_cpu = statistics.median(c.source_cpu_s + c.own_cpu_s + c.target_cpu_s for c in theirs)
        ours_cpu = statistics.median(c.source_cpu_s + c.own_cpu_s + c.target_cpu_s for c in ours)
        alone_cpu = statistics.median(a.source_cpu_s for a in alone)
        rows += [
            ("CPU seconds the receiving `mltracker serve` spent (median)",
             f"{statistics.median(c.target_cpu_s for c in theirs):.1f}", "0 (no server: writes the store)", ""),
            ("CPU seconds in all: source + tool + receiving server", f"{theirs_cpu:.1f}",
             f"{ours_cpu:.1f}", f"{theirs_cpu / ours_cpu:.1f}×"),
            ("the CPU ratio no copy can pass: their CPU over the source-alone CPU", "", "",
             f"{theirs_cpu / alone_cpu:.1f}×"),
        ]
        (work / "c").mkdir()
        short = mltracker_import(source, "short", work / "c", 1)
        (work / "d").mkdir()
        long = mltracker_import(source, "long", work / "d", 1)
        rows.append((f"importer peak memory, {short_points:,}-point history", "", f"{short.peak_mb:.0f} MB", ""))
        rows.append((f"importer peak memory, {long_points:,}-point history ({long.wall_s:.1f} s)", "",
                     f"{long.peak_mb:.0f} MB", ""))
    finally:
        source.stop()
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    lines = [
        "# `mltracker import mlflow` vs `mlflow-export-import`: results", "",
        f"Generated by `benchmarks/import_vs_export_import.py --runs {args.runs} --steps {args.steps} "
        f"--long-steps {args.long_steps} --rounds {args.rounds}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"mltracker commit {commit}. Do not edit by hand.", "",
        f"Source: `mlflow server` (SQLite, 2 workers), {args.runs} runs × 3 metrics × {args.steps} steps, 5 params, "
        "5 tags and a 100 KB artifact each. Target: an mltracker store on SQLite + local folder "
        f"(mltracker import with {args.workers} workers; mlflow-export-import's export-experiment + "
        "import-experiment through `mltracker serve`, 2 workers). The tools alternate on the same source, "
        f"{args.rounds} rounds.", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end (shared machine).", "",
        "How to read it: the CPU-seconds rows hardly depend on the machine's load; they are the work each copy "
        "costs (source + tool + receiving server). No copy can cost the source less than the source-alone reads "
        "(every point and every file read once, in the fewest requests), so their CPU over that figure bounds the "
        "CPU ratio of any importer, however cheap its own work. Wall time depends on the load: on a machine whose "
        "load average is far above its cores, the kernel shares CPU time per runnable process; "
        "mlflow-export-import runs one process at a time (its client, the source, the receiving server, in turn), "
        "an import keeps the source's two workers and the importer busy together, so its wall-time ratio can "
        "exceed its CPU ratio. On an idle machine, mlflow-export-import's sequential round trips dominate its "
        "time and the ratio grows.", "",
        "| figure | mlflow-export-import | mltracker import | ratio |", "|---|---:|---:|---:|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
