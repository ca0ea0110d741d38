"""mltracker vs `mlflow server`, side by side, same machine, same backend, same workloads.

    make bench                                   # full mode, both backends, 3 repetitions; appends to benchmarks/RESULTS.md
    .venv/bin/python benchmarks/compare_mlflow.py --quick       # < 1 min, prints the table only
    .venv/bin/python benchmarks/compare_mlflow.py --backends sqlite --only log_batch,history

What happens:
- a pinned `mlflow` server is installed in its own virtual environment (benchmarks/.venv-mlflow-server);
- per backend (a SQLite file; a fresh PostgreSQL database per server, created and dropped here),
  `mlflow server` and `mltracker serve` start with the same number of workers, next to a ceiling
  server (benchmarks/ceiling_server.py) that answers with precomputed responses and does no work;
- every workload (benchmarks/workloads.py) runs through the stock MLflow client, one process per run,
  alternating the servers' order between repetitions; the median of the repetitions is reported;
- large data sets (10,000 runs to search, a 100,000-step history) are seeded the same way into both
  servers: a template run through the API, copied in SQL (benchmarks/seeding.py).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import seeding  # noqa: E402
import store_floor  # noqa: E402
import workloads  # noqa: E402
from servers import (  # noqa: E402
    MLFLOW_VERSION, OUR_BIN, PG_ADMIN_DSN, SERVER_ENV, Server, ensure_mlflow_venv, free_port, log, proc_status_kb,
    reset_peak_rss, ServerSet, start_servers,
)

MIB = 1024 * 1024
# A server whose memory is flat in the artifact's size grows by its buffers (a few MiB), not by the file.
ARTIFACT_MEMORY_GROWTH_MB = 32


@dataclass(frozen=True)
class Mode:
    name: str
    reps: int
    ingest_runs_per_writer: int
    batches: int
    history_steps: int
    search_runs: int
    search_queries: int
    artifact_mib: int
    capacity_seconds: float
    memory_points: int
    loop_calls: int
    async_steps: int
    writers: int = 8


QUICK = Mode("quick", reps=1, ingest_runs_per_writer=1, batches=4, history_steps=10_000, search_runs=1_000,
             search_queries=3, artifact_mib=20, capacity_seconds=1.5, memory_points=100_000,
             loop_calls=100, async_steps=1000)
FULL = Mode("full", reps=3, ingest_runs_per_writer=3, batches=30, history_steps=100_000, search_runs=10_000,
            search_queries=10, artifact_mib=200, capacity_seconds=6, memory_points=1_000_000,
            loop_calls=300, async_steps=2_000)
SERVERS = ("mlflow", "mltracker", "ceiling")


LOAD_AT_START = os.getloadavg()


def code_version() -> str:
    """The checkout's commit, and whether service/ has changes not committed."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "service"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return (commit.stdout.strip() or "?") + (
        f" + uncommitted changes in {len(dirty.splitlines())} file(s) under service/" if dirty else "")


def machine_details(mode: Mode, code: str) -> dict:
    """code: code_version() when the servers started (the checkout may move while a run goes on)."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001
        pg = f"unavailable ({exc})"
    import mlflow  # the client's version

    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem_gb,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "mlflow server": MLFLOW_VERSION,
        "mlflow client": mlflow.__version__,
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": pg,
        "mltracker commit": code,
        "mode": mode.name,
        "load average (1, 5, 15 min) at the start": " ".join(f"{x:.2f}" for x in LOAD_AT_START),
        "load average (1, 5, 15 min) at the end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# ---------------------------------------------------------------- the client side

class Runner:
    """The workload runner (benchmarks/workloads.py runner): one forked client process per workload run."""

    def __init__(self):
        env = {**os.environ, **SERVER_ENV}
        self.proc = subprocess.Popen([str(OUR_BIN / "python"), str(BENCH / "workloads.py"), "runner"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        ready = self.proc.stdout.readline()
        if not ready:
            raise RuntimeError("workload runner failed to start")

    def __call__(self, workload: str, url: str, **args) -> dict:
        self.proc.stdin.write(json.dumps({"workload": workload, "uri": url, "args": args}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if not answer["ok"]:
            raise RuntimeError(f"{workload} against {url} failed: {answer['error']}\n{answer.get('trace', '')}")
        return answer["result"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# ---------------------------------------------------------------- one backend

@dataclass
class BackendResults:
    backend: str
    samples: dict = field(default_factory=dict)  # (workload, server) -> [result dicts]
    extra: dict = field(default_factory=dict)

    def add(self, workload: str, server: str, result: dict) -> None:
        self.samples.setdefault((workload, server), []).append(result)

    def values(self, workload: str, server: str, key: str) -> list[float]:
        """One value per repetition, in repetition order."""
        return [r[key] for r in self.samples.get((workload, server), []) if key in r]

    def median(self, workload: str, server: str, key: str):
        values = self.values(workload, server, key)
        return statistics.median(values) if values else None


def alternating(reps: int, servers=SERVERS):
    """A B C, B A C, …: the two real servers swap places every repetition; the ceiling goes last."""
    for rep in range(reps):
        order = list(servers)
        if rep % 2 and "mlflow" in order and "mltracker" in order:
            i, j = order.index("mlflow"), order.index("mltracker")
            order[i], order[j] = order[j], order[i]
        yield rep, order


class BackendBench:
    def __init__(self, backend: str, mode: Mode, workdir: Path, mlflow_bin: Path, runner: Runner,
                 ceiling: Server, workers: int, only: set[str] | None, artifact_file: Path):
        self.backend, self.mode, self.runner, self.ceiling = backend, mode, runner, ceiling
        self.workers, self.only, self.artifact_file = workers, only, artifact_file
        self.dir = workdir / backend
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mlflow_bin = mlflow_bin
        self.results = BackendResults(backend)
        self.servers = ServerSet(backend)

    @property
    def stores(self) -> dict[str, tuple[str, str]]:
        """server -> (seeding kind, seeding target)"""
        return self.servers.stores

    # -- lifecycle
    def start(self) -> None:
        self.servers = start_servers(self.backend, self.dir, self.workers, mlflow_bin=self.mlflow_bin, wait=False)

    def wait_ready(self) -> None:
        self.servers.wait_ready()
        log(f"{self.backend}: mlflow server at {self.servers['mlflow'].url}, "
            f"mltracker at {self.servers['mltracker'].url}, {self.workers} workers each")

    def stop(self) -> None:
        self.servers.stop()

    def url(self, server: str) -> str:
        return self.ceiling.url if server == "ceiling" else self.servers[server].url

    def wanted(self, workload: str) -> bool:
        return self.only is None or workload in self.only

    # -- workloads
    def run(self) -> BackendResults:
        exp = {s: self.runner("create_experiment", self.url(s), name="bench")["experiment_id"] for s in SERVERS}
        # Warm-up, not recorded: first requests to a fresh worker pay for lazy imports and caches.
        for server in SERVERS:
            self.runner("capacity", self.url(server), experiment_id=exp[server], seconds=0.5, connections=4)
        steps = [
            ("capacity", self.capacity), ("ingest", self.ingest), ("log_batch", self.log_batch),
            ("history", self.history), ("search", self.search), ("artifacts", self.artifacts),
            ("memory", self.memory), ("training_loop", self.training_loop),
        ]
        for name, step in steps:
            if self.wanted(name):
                started = time.time()
                step(exp)
                log(f"{self.backend}: {name} done in {time.time() - started:.1f}s")
        return self.results

    def _alternate(self, workload: str, make_args, watch_memory: bool = False) -> None:
        """Every repetition runs the workload on each server back to back; with watch_memory, mltracker's
        processes' peak RSS during its run is added to its result."""
        for rep, order in alternating(self.mode.reps):
            for server in order:
                watched = watch_memory and server == "mltracker"
                if watched:
                    pids = self.servers["mltracker"].pids()
                    before = [proc_status_kb(pid, "VmRSS") for pid in pids]
                    reset_peak_rss(pids)
                result = self.runner(workload, self.url(server), **make_args(server))
                if watched:
                    result["baseline_process_mb"] = max(before) / 1024
                    result["peak_process_mb"] = max(proc_status_kb(pid, "VmHWM") for pid in pids) / 1024
                    result["growth_mb"] = result["peak_process_mb"] - result["baseline_process_mb"]
                self.results.add(workload, server, result)

    def capacity(self, exp) -> None:
        self._alternate("capacity", lambda s: {"experiment_id": exp[s], "seconds": self.mode.capacity_seconds,
                                                "connections": 4})

    def ingest(self, exp) -> None:
        self._alternate("ingest", lambda s: {"experiment_id": exp[s], "writers": self.mode.writers,
                                              "runs_per_writer": self.mode.ingest_runs_per_writer})

    def log_batch(self, exp) -> None:
        floor = store_floor.insert_latencies(*self.stores["mltracker"])
        self._alternate("log_batch", lambda s: {"experiment_id": exp[s], "batches": self.mode.batches})
        floor += store_floor.insert_latencies(*self.stores["mltracker"])
        self.results.extra["insert_floor_s"] = statistics.median(floor)

    def training_loop(self, exp) -> None:
        syncs = self._fdatasync_latencies()
        self._alternate("training_loop", lambda s: {"experiment_id": exp[s], "calls": self.mode.loop_calls})
        syncs = sorted(syncs + self._fdatasync_latencies())
        self.results.extra["fdatasync"] = {"median_s": statistics.median(syncs),
                                           "p99_s": syncs[min(len(syncs) - 1, int(len(syncs) * 0.99))]}
        self._alternate("async_loop", lambda s: {"experiment_id": exp[s], "steps": self.mode.async_steps})

    def _fdatasync_latencies(self, count: int = 100) -> list[float]:
        """What a durable commit waits for on this disk at this moment: 4 KiB written, fdatasync."""
        path = self.dir / "fdatasync.bin"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            latencies = []
            for i in range(count):
                os.pwrite(fd, os.urandom(4096), (i % 16) * 4096)
                started = time.perf_counter()
                os.fdatasync(fd)
                latencies.append(time.perf_counter() - started)
            return latencies
        finally:
            os.close(fd)
            path.unlink()

    def history(self, exp) -> None:
        runs = {"ceiling": None}
        for server in ("mlflow", "mltracker"):
            run_id = self.runner("history_run", self.url(server), experiment_id=exp[server])["run_id"]
            seeding.add_history(*self.stores[server], run_id, workloads.HISTORY_KEY, self.mode.history_steps)
            runs[server] = run_id
        self._alternate("history", lambda s: {"run_id": runs[s] or seeding_placeholder(), "expected": self.mode.history_steps})

    def search(self, exp) -> None:
        search_exp = {}
        for server in ("mlflow", "mltracker"):
            url = self.url(server)
            search_exp[server] = self.runner("create_experiment", url, name="search")["experiment_id"]
            template = self.runner("template_run", url, experiment_id=search_exp[server])["run_id"]
            started = time.time()
            seeding.clone_runs(*self.stores[server], template, self.mode.search_runs - 1)
            log(f"{self.backend}: seeded {self.mode.search_runs} runs into {server} in {time.time() - started:.1f}s")
        search_exp["ceiling"] = exp["ceiling"]
        self._alternate("search", lambda s: {"experiment_id": search_exp[s], "queries": self.mode.search_queries})
        prints = {s: self.results.samples[("search", s)][0]["fingerprint"] for s in ("mlflow", "mltracker")}
        if prints["mlflow"] != prints["mltracker"]:
            log(f"WARNING {self.backend}: search pages differ: mlflow {prints['mlflow']} mltracker {prints['mltracker']}")
            self.results.extra["search_mismatch"] = prints

    def artifacts(self, exp) -> None:
        copies, durable = [], []
        size_mb = self.artifact_file.stat().st_size / 1e6
        for _ in range(self.mode.reps):
            target = self.dir / "plain-copy.bin"
            started = time.perf_counter()
            shutil.copyfile(self.artifact_file, target)
            copies.append(size_mb / (time.perf_counter() - started))
            target.unlink()
            # What an artifact store that survives a crash must do: the copy on disk, not in the cache.
            started = time.perf_counter()
            shutil.copyfile(self.artifact_file, target)
            with open(target, "rb+") as copied:
                os.fsync(copied.fileno())
            durable.append(size_mb / (time.perf_counter() - started))
            target.unlink()
        self.results.extra["copy_mb_s"] = statistics.median(copies)
        self.results.extra["durable_copy_mb_s"] = statistics.median(durable)
        self._alternate("artifacts", lambda s: {"experiment_id": exp[s], "path": str(self.artifact_file),
                                                 "tmp_dir": str(self.dir)}, watch_memory=True)
        for name in ("mlflow-artifacts", "mltracker-artifacts"):
            shutil.rmtree(self.dir / name, ignore_errors=True)

    def memory(self, exp) -> None:
        """Server RSS while serving a long history: paged as the client reads it, then in one response."""
        server = self.servers["mltracker"]
        run_id = self.runner("history_run", server.url, experiment_id=exp["mltracker"])["run_id"]
        seeding.add_history(*self.stores["mltracker"], run_id, workloads.HISTORY_KEY, self.mode.memory_points)
        figures = {}
        session = requests.Session()
        endpoint = server.url + "/api/2.0/mlflow/metrics/get-history"
        for label, paged in (("paged", True), ("unpaged", False)):
            pids = server.pids()
            before = {pid: proc_status_kb(pid, "VmRSS") for pid in pids}
            reset_peak_rss(pids)
            started = time.perf_counter()
            received, token = 0, None
            while True:
                query = {"run_id": run_id, "metric_key": workloads.HISTORY_KEY}
                if paged:
                    query["max_results"] = workloads.HISTORY_PAGE
                    if token:
                        query["page_token"] = token
                response = session.get(endpoint, params=query, timeout=600)
                response.raise_for_status()
                body = response.json()
                received += len(body.get("metrics", []))
                token = body.get("next_page_token")
                if not paged or not token:
                    break
            seconds = time.perf_counter() - started
            if received != self.mode.memory_points:
                log(f"WARNING memory/{label}: got {received} points, expected {self.mode.memory_points}")
            peaks = {pid: proc_status_kb(pid, "VmHWM") for pid in pids}
            figures[label] = {
                "seconds": seconds,
                "points": received,
                "rss_before_mb": sum(before.values()) / 1024,
                "peak_sum_mb": sum(peaks.values()) / 1024,
                "peak_process_mb": max(peaks.values()) / 1024,
                "baseline_process_mb": max(before.values()) / 1024,
            }
        self.results.extra["memory"] = figures


def seeding_placeholder() -> str:
    return "c0ffee00" * 4  # the ceiling server answers any run id


# ---------------------------------------------------------------- the table

@dataclass(frozen=True)
class Row:
    label: str
    workload: str
    key: str
    unit: str
    higher_is_better: bool
    target: str = ""
    # which comparison the target is about: "mlflow" (speed-up ≥ x) or "ceiling" (fraction ≥ x)
    target_kind: str = ""
    target_value: float = 0.0
    # latency rows whose target is a multiple of the ceiling's time ("≤ 1.5× ceiling")
    as_multiple_of_ceiling: bool = False
    # a measured floor per call that any server pays on top of the ceiling's time (an `extra` key,
    # seconds), and the points per call that turn the row's points/s into calls
    floor: str = ""
    points_per_call: int = 0


def rows_for(mode: Mode) -> list[Row]:
    runs = mode.writers * mode.ingest_runs_per_writer
    return [
        Row("capacity: log-batch, 4 keep-alive conns", "capacity", "metrics_per_s", "metrics/s", True,
            "≥ 20× mlflow", "mlflow", 20),
        Row(f"ingest: {mode.writers} writers, {runs} runs × 1,000 pts", "ingest", "metrics_per_s", "metrics/s", True,
            "≥ 5× mlflow", "mlflow", 5),
        Row(f"log-batch: {mode.batches} × 1,000 pts, one run", "log_batch", "metrics_per_s", "metrics/s", True,
            "≥ 80% ceiling", "ceiling", 0.8, floor="insert_floor_s",
            points_per_call=store_floor.POINTS_PER_CALL),
        Row(f"history: {mode.history_steps:,} steps", "history", "seconds", "s", False,
            "≥ 80% ceiling", "ceiling", 0.8),
        Row(f"search: {mode.search_runs:,} runs, median", "search", "median_s", "ms", False,
            "≥ 5× mlflow", "mlflow", 5),
        Row(f"search: {mode.search_runs:,} runs, p95", "search", "p95_s", "ms", False,
            "≥ 5× mlflow", "mlflow", 5),
        *[row for kind in ("log_metric", "log_param", "set_tag") for row in (
            Row(f"training loop: one {kind} call, median", "training_loop", f"{kind}_median_s", "ms", False,
                "≤ 1.5× ceiling", "ceiling", 1 / 1.5, as_multiple_of_ceiling=True),
            Row(f"training loop: one {kind} call, p99", "training_loop", f"{kind}_p99_s", "ms", False,
                "≤ 3× ceiling", "ceiling", 1 / 3, as_multiple_of_ceiling=True),
        )],
        Row(f"training loop, async logging: {mode.async_steps:,} log_metric calls until flushed", "async_loop",
            "steps_per_s", "calls/s", True),
        Row(f"artifact upload {mode.artifact_mib} MiB", "artifacts", "upload_mb_s", "MB/s", True,
            "≥ 2× mlflow", "mlflow", 2),
        Row(f"artifact download {mode.artifact_mib} MiB", "artifacts", "download_mb_s", "MB/s", True,
            "≥ 2× mlflow", "mlflow", 2),
    ]


def _fmt(value, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ms":
        return f"{value * 1000:,.1f} ms"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "MB/s":
        return f"{value:,.0f} MB/s"
    return f"{value:,.0f} {unit}"


def table(mode: Mode, results: list[BackendResults]) -> str:
    out = [
        "| backend | figure | mlflow server | mltracker | mltracker vs mlflow | ceiling | mltracker / ceiling | target | met |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for res in results:
        for row in rows_for(mode):
            values = {s: res.median(row.workload, s, row.key) for s in SERVERS}
            if all(v is None for v in values.values()):
                continue
            a, b, c = values["mlflow"], values["mltracker"], values["ceiling"]
            per_rep = {s: res.values(row.workload, s, row.key) for s in SERVERS}
            speedup = _ratio(b, a, row.higher_is_better)
            speedups = _paired_ratios(per_rep["mltracker"], per_rep["mlflow"], row.higher_is_better)
            of_ceiling = _ratio(b, c, row.higher_is_better)
            of_ceilings = _paired_ratios(per_rep["mltracker"], per_rep["ceiling"], row.higher_is_better)
            met = ""
            if row.target_kind == "mlflow" and speedup is not None:
                met = _met(speedup, speedups, row.target_value)
            if row.target_kind == "ceiling" and of_ceiling is not None:
                met = _met(of_ceiling, of_ceilings, row.target_value)
            bound = _unreachable(row, a, c, res.extra.get(row.floor))
            if met == "**no**" and bound:
                met = bound
            out.append(
                f"| {res.backend} | {row.label} | {_fmt(a, row.unit)}{_spread(per_rep['mlflow'])} | "
                f"{_fmt(b, row.unit)}{_spread(per_rep['mltracker'])} | "
                f"{'–' if speedup is None else f'{speedup:.1f}×'}{_range(speedups)} | "
                f"{_fmt(c, row.unit)}{_spread(per_rep['ceiling'])} | "
                f"{_share(of_ceiling, row.as_multiple_of_ceiling)} | {row.target} | {met} |"
            )
        copy = res.extra.get("copy_mb_s")
        if copy:
            up = res.median("artifacts", "mltracker", "upload_mb_s")
            down = res.median("artifacts", "mltracker", "download_mb_s")
            worst = min(x for x in (up, down) if x is not None) if (up or down) else None
            frac = worst / copy if worst else None
            out.append(
                f"| {res.backend} | plain file copy {mode.artifact_mib} MiB (reference) | | {_fmt(copy, 'MB/s')} | | | "
                f"{'–' if frac is None else f'slower direction: {frac:.0%} of copy'} | within 20% of copy | "
                f"{'' if frac is None else ('yes' if frac >= 0.8 else '**no**')} |"
            )
            durable = res.extra.get("durable_copy_mb_s")
            if durable:
                frac = worst / durable if worst else None
                out.append(
                    f"| {res.backend} | plain file copy + fsync {mode.artifact_mib} MiB (reference) | | "
                    f"{_fmt(durable, 'MB/s')} | | | {'–' if frac is None else f'slower direction: {frac:.0%} of it'} | | |"
                )
        peaks = res.values("artifacts", "mltracker", "peak_process_mb")
        if peaks:
            growth = max(res.values("artifacts", "mltracker", "growth_mb"))
            baseline = statistics.median(res.values("artifacts", "mltracker", "baseline_process_mb"))
            out.append(
                f"| {res.backend} | memory: artifact upload + download {mode.artifact_mib} MiB | | "
                f"peak worker {max(peaks):,.0f} MB (from {baseline:,.0f}), at most +{growth:,.0f} MB | | | | "
                f"flat: < +{ARTIFACT_MEMORY_GROWTH_MB} MB | {'yes' if growth < ARTIFACT_MEMORY_GROWTH_MB else '**no**'} |"
            )
        floor = res.extra.get("insert_floor_s")
        ceiling_rate = res.median("log_batch", "ceiling", "metrics_per_s")
        if floor:
            share = _best_share_of_ceiling(ceiling_rate, floor, store_floor.POINTS_PER_CALL)
            out.append(f"| {res.backend} | 1,000-row INSERT + commit alone, median (reference: the store's own floor "
                       f"per log-batch) | | {_fmt(floor, 'ms')} | | | "
                       f"{'–' if share is None else f'ceiling + it: {share:.0%} of the ceiling'} | | |")
        sync = res.extra.get("fdatasync")
        if sync:
            for label, key, stat in (("median", "median_s", "log_metric_median_s"), ("p99", "p99_s", "log_metric_p99_s")):
                ceiling = res.median("training_loop", "ceiling", stat)
                floor = f"ceiling + it: {(ceiling + sync[key]) / ceiling:.2f}× its time" if ceiling else "–"
                out.append(f"| {res.backend} | 4 KiB write + fdatasync, {label} (reference: a durable commit's wait) | | "
                           f"{_fmt(sync[key], 'ms')} | | | {floor} | | |")
        mem = res.extra.get("memory")
        if mem:
            for label in ("paged", "unpaged"):
                f = mem[label]
                how = "25,000-point pages" if label == "paged" else "one response"
                out.append(
                    f"| {res.backend} | memory: {f['points']:,}-pt history, {how} ({f['seconds']:.1f} s) | | "
                    f"peak worker {f['peak_process_mb']:,.0f} MB (from {f['baseline_process_mb']:,.0f}); "
                    f"all processes {f['peak_sum_mb']:,.0f} MB | | | | < 300 MB | "
                    f"{'yes' if f['peak_process_mb'] < 300 else '**no**'} |"
                )
    notes = []
    for res in results:
        for (workload, server), samples in sorted(res.samples.items()):
            dropped = sum(r.get("dropped_connections", 0) for r in samples)
            if dropped:
                notes.append(f"- {res.backend}: {server} dropped {dropped} keep-alive connection(s) during "
                             f"{workload} (its workers restarted under load); requests were re-sent.")
        if res.extra.get("search_mismatch"):
            notes.append(f"- {res.backend}: search pages differ between servers: {res.extra['search_mismatch']}")
    if notes:
        out.append("")
        out.extend(notes)
    return "\n".join(out)


def _spread(values: list[float]) -> str:
    """± the standard deviation of the repetitions as a share of their mean (nothing for one)."""
    if len(values) < 2 or not statistics.fmean(values):
        return ""
    return f" ±{statistics.stdev(values) / statistics.fmean(values):.0%}"


def _paired_ratios(ours: list[float], theirs: list[float], higher_is_better: bool) -> list[float]:
    """The ratio within each repetition (the two servers ran back to back in it)."""
    return [r for r in (_ratio(o, t, higher_is_better) for o, t in zip(ours, theirs)) if r is not None]


def _range(ratios: list[float]) -> str:
    return f" ({min(ratios):.1f}–{max(ratios):.1f})" if len(ratios) > 1 else ""


def _met(median: float, per_rep: list[float], target: float) -> str:
    if median < target:
        return "**no**"
    missed = sum(r < target for r in per_rep)
    return f"yes ({len(per_rep) - missed} of {len(per_rep)} reps)" if missed else "yes"


def _unreachable(row: Row, mlflow, ceiling, floor) -> str:
    """Why no server could meet the row's target in this run, from this run's own figures ("" if
    none shows it): the do-nothing server below the target speed-up over mlflow, or the ceiling's
    time per call plus a measured floor (the store's own insert and commit) below the target share."""
    if row.target_kind == "mlflow":
        best = _ratio(ceiling, mlflow, row.higher_is_better)
        if best is not None and best < row.target_value:
            return f"**impossible**: the do-nothing server itself is {best:.1f}× mlflow"
    if row.target_kind == "ceiling" and floor and row.points_per_call:
        best = _best_share_of_ceiling(ceiling, floor, row.points_per_call)
        if best is not None and best < row.target_value:
            return (f"**impossible**: ceiling + the store's insert alone ({floor * 1000:.1f} ms a call) "
                    f"is {best:.0%} of the ceiling")
    return ""


def _best_share_of_ceiling(ceiling_rate, floor_s: float, points_per_call: int):
    """The share of the ceiling's points/s left once each call also waits `floor_s`."""
    if not ceiling_rate:
        return None
    per_call = points_per_call / ceiling_rate
    return per_call / (per_call + floor_s)


def _share(of_ceiling, as_multiple: bool) -> str:
    if of_ceiling is None:
        return "–"
    return f"{1 / of_ceiling:.2f}× its time" if as_multiple else f"{of_ceiling:.0%}"


def _ratio(ours, theirs, higher_is_better: bool):
    if ours is None or theirs is None or ours == 0 or theirs == 0:
        return None
    return ours / theirs if higher_is_better else theirs / ours


RESULTS_HEADER = """# mltracker vs `mlflow server`: results

Every full `make bench` run (`benchmarks/compare_mlflow.py`) is appended here as it printed it, newest
last, with the machine it ran on and the load average around it; `make bench-scale-out` appends its
table the same way. Figures are pasted as printed, never edited.

Reading the tables: "mltracker vs mlflow" is how many times faster mltracker is (higher is better,
for throughput and for latency alike), the median of the repetitions, and in brackets the lowest and
highest ratio within one repetition (the two servers ran back to back in it); "±" after a figure is
the standard deviation of the repetitions as a share of their mean. "ceiling" is a server that answers
with precomputed responses and does no work, so its figure is what the stock MLflow client itself can
reach; the "mltracker / ceiling" column is the share of that client-bound limit mltracker delivers.
Capacity bypasses the client (pre-encoded bodies, 4 keep-alive connections), so there the ceiling is
the load generator's own limit. "met" is judged on the median; "yes (2 of 3 reps)" says a repetition
missed it; the "met" column says **impossible** instead of **no** when the run's own figures show
that no server could meet the target in it: for a target against mlflow, the do-nothing server
itself below that speed-up; for log-batch's share of the ceiling, the ceiling's time per call plus
the store's own insert and commit of 1,000 rows (the reference row, measured in the same run) below
that share. Memory is VmHWM (peak RSS) read from /proc for mltracker's processes, peak reset before
each read.
"""


def write_results(path: Path, mode: Mode, machine: dict, text: str, elapsed: float, workers: int) -> None:
    """Append this run to the results file (created with its reading guide if new)."""
    details = "\n".join(f"| {k} | {v} |" for k, v in machine.items())
    section = f"""
## Run of {time.strftime('%Y-%m-%d %H:%M %Z')} ({mode.name} mode, {elapsed / 60:.1f} min, commit {machine['mltracker commit']})

`{' '.join(['benchmarks/compare_mlflow.py', *sys.argv[1:]])}`

| machine | |
|---|---|
{details}
| workers per server | {workers} |
| repetitions (median reported) | {mode.reps} |

{text}
"""
    new = not path.exists() or not path.read_text().strip()
    with open(path, "a") as out:
        if new:
            out.write(RESULTS_HEADER)
        out.write(section)


# ---------------------------------------------------------------- main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="mltracker vs mlflow server")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition (< 1 min)")
    parser.add_argument("--reps", type=int, help="repetitions per workload (default: 3 in full mode, 1 in quick)")
    parser.add_argument("--backends", help="comma-separated (default: sqlite,postgresql; quick mode: sqlite)")
    parser.add_argument("--only", help="comma-separated workloads: capacity,ingest,log_batch,history,search,"
                                       "artifacts,memory,training_loop")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="workers for both servers")
    parser.add_argument("--output", help="results file to append the run to (default: benchmarks/RESULTS.md in "
                                         "full mode; none in quick mode)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (server logs, SQLite files)")
    args = parser.parse_args(argv)
    # Stopped with SIGTERM: still stop the servers and drop the databases (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    mode = QUICK if args.quick else FULL
    if args.reps:
        mode = dataclasses.replace(mode, reps=args.reps)
    output = Path(args.output) if args.output else (None if args.quick else BENCH / "RESULTS.md")
    only = set(args.only.split(",")) if args.only else None
    started = time.time()
    code = code_version()

    mlflow_bin = ensure_mlflow_venv()
    workdir = Path(tempfile.mkdtemp(prefix="mltracker-bench-"))
    artifact_file = workdir / "artifact.bin"
    if only is None or "artifacts" in only:
        block = os.urandom(MIB)
        with open(artifact_file, "wb") as f:
            for _ in range(mode.artifact_mib):
                f.write(block)
    ceiling_port = free_port()
    ceiling = Server("ceiling", [
        str(OUR_BIN / "python"), str(BENCH / "ceiling_server.py"), "--port", str(ceiling_port),
        "--history-steps", str(mode.history_steps), "--search-runs", str(workloads.SEARCH_MAX_RESULTS),
        "--download-mb", str(mode.artifact_mib),
    ], ceiling_port, workdir / "ceiling.log").start()
    runner = Runner()
    all_results = []
    benches = [BackendBench(backend, mode, workdir, mlflow_bin, runner, ceiling, args.workers, only, artifact_file)
               for backend in (args.backends or ("sqlite" if args.quick else "sqlite,postgresql")).split(",")]
    try:
        # All servers start at once (mlflow's start-up is slow); they sit idle until their turn.
        for bench in benches:
            bench.start()
        ceiling.wait_ready()
        for bench in benches:
            bench.wait_ready()
            all_results.append(bench.run())
            bench.stop()
    finally:
        for bench in benches:
            bench.stop()
        runner.close()
        ceiling.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"work directory kept: {workdir}")
    text = table(mode, all_results)
    elapsed = time.time() - started
    print(text)
    log(f"total {elapsed:.0f}s")
    if output:
        write_results(output, mode, machine_details(mode, code), text, elapsed, args.workers)
        log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
