"""Profile `mltracker serve` under one benchmark workload with py-spy, and summarise where time goes.

    .venv/bin/pip install py-spy
    .venv/bin/python benchmarks/profile_server.py log_batch --backend sqlite
    .venv/bin/python benchmarks/profile_server.py search --backend postgresql --raw /tmp/search.txt

(For a flame graph, run `py-spy record --subprocesses --pid <server pid> -o profile.svg` yourself.)

Starts a fresh server (SQLite file, or a fresh PostgreSQL database dropped afterwards), seeds what
the workload needs, records every worker process with `py-spy record --subprocesses` while the
workload runs through the stock MLflow client, and prints:
- inclusive time per function (share of all non-idle samples of the workers that contain it),
- self time per function (where the CPU actually is),
- a breakdown into buckets (JSON, SQLAlchemy compile/execute, DB driver, Flask/Werkzeug, gunicorn, …).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import compare_mlflow as cm  # noqa: E402
import seeding  # noqa: E402
import workloads  # noqa: E402
from servers import start_servers  # noqa: E402

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

# Buckets by file path fragment, first match wins (checked against the innermost frames first).
BUCKETS = [
    ("JSON encode/decode", ("json/encoder", "json/decoder", "json/__init__", "orjson", "simplejson")),
    ("SQL compile (SQLAlchemy)", ("sqlalchemy/sql/compiler", "sqlalchemy/sql/", "sqlalchemy/dialects/")),
    ("SQL execute/result (SQLAlchemy engine)", ("sqlalchemy/engine/", "sqlalchemy/pool/", "sqlalchemy/event")),
    ("DB driver (sqlite3/psycopg)", ("sqlite3/", "psycopg/", "psycopg_binary", "<built-in method execute")),
    ("request parsing / validation (service)", ("service/api/request", "service/tracking/validation")),
    ("service code (other)", ("service/",)),
    ("Flask/Werkzeug", ("flask/", "werkzeug/")),
    ("gunicorn/socket I/O", ("gunicorn/", "socket.py", "selectors.py", "ssl.py")),
]


def parse_frame(frame: str) -> tuple[str, str]:
    m = FRAME.match(frame.strip())
    if not m:
        return frame.strip(), ""
    path = m.group("file")
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return m.group("func"), path


def summarise(raw_path: Path, top: int = 25) -> str:
    inclusive: Counter = Counter()
    self_time: Counter = Counter()
    buckets: Counter = Counter()
    total = 0
    for line in raw_path.read_text().splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        frames = [parse_frame(f) for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        total += n
        seen = set()
        for func, path in frames:
            key = f"{func} ({path})"
            if key not in seen:
                inclusive[key] += n
                seen.add(key)
        func, path = frames[-1]
        self_time[f"{func} ({path})"] += n
        buckets[_bucket(frames)] += n
    out = [f"{total} samples (non-idle, all workers)", "", "inclusive (share of samples containing the frame):"]
    for key, n in inclusive.most_common(top * 3):
        if any(skip in key for skip in ("threading.py", "gunicorn/workers/gthread.py) handle", "concurrent/futures")) \
                and n / total > 0.9:
            continue
        out.append(f"  {100 * n / total:5.1f}%  {key}")
        if len(out) > top + 3:
            break
    out += ["", "self (innermost frame):"]
    for key, n in self_time.most_common(top):
        out.append(f"  {100 * n / total:5.1f}%  {key}")
    out += ["", "buckets (innermost matching frame):"]
    for key, n in buckets.most_common():
        out.append(f"  {100 * n / total:5.1f}%  {key}")
    return "\n".join(out)


def _bucket(frames) -> str:
    for func, path in reversed(frames):
        probe = f"{path} {func}"
        for name, markers in BUCKETS:
            if any(m in probe for m in markers):
                return name
    return "other (stdlib, interpreter)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["log_batch", "ingest", "history", "search", "capacity", "artifacts"])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--scale", type=int, default=0,
                        help="batches / history steps / runs / MiB / seconds (0: full-mode size)")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--raw", help="keep the collapsed stacks here")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(cm.OUR_BIN / "py-spy")
    workdir = Path(tempfile.mkdtemp(prefix="mltracker-profile-"))
    runner = cm.Runner()
    bench = cm.BackendBench(args.backend, cm.FULL, workdir, Path("/nonexistent"), runner, None, args.workers,
                            None, workdir / "none")
    try:
        server = _start_mltracker(bench)
        url = server.url
        exp = runner("create_experiment", url, name="profile")["experiment_id"]
        kind, target = bench.stores["mltracker"]
        if args.workload == "history":
            steps = args.scale or 100_000
            run_id = runner("history_run", url, experiment_id=exp)["run_id"]
            seeding.add_history(kind, target, run_id, workloads.HISTORY_KEY, steps)
            job = ("history", {"run_id": run_id, "expected": steps})
            repeat = 5
        elif args.workload == "search":
            runs = args.scale or 10_000
            template = runner("template_run", url, experiment_id=exp)["run_id"]
            seeding.clone_runs(kind, target, template, runs - 1)
            job = ("search", {"experiment_id": exp, "queries": 30})
            repeat = 1
        elif args.workload == "ingest":
            job = ("ingest", {"experiment_id": exp, "writers": 8, "runs_per_writer": args.scale or 10})
            repeat = 1
        elif args.workload == "artifacts":
            path = workdir / "artifact.bin"
            block = os.urandom(1 << 20)
            with open(path, "wb") as f:
                for _ in range(args.scale or 200):
                    f.write(block)
            job = ("artifacts", {"experiment_id": exp, "path": str(path), "tmp_dir": str(workdir)})
            repeat = 2
        elif args.workload == "capacity":
            job = ("capacity", {"experiment_id": exp, "seconds": args.scale or 10})
            repeat = 1
        else:
            job = ("log_batch", {"experiment_id": exp, "batches": args.scale or 100})
            repeat = 1
        raw = Path(args.raw) if args.raw else workdir / "profile.txt"
        spy = subprocess.Popen([py_spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--rate",
                                str(args.rate), "--format", "raw", "--output", str(raw), "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)
        results = [runner(job[0], url, **job[1]) for _ in range(repeat)]
        spy.send_signal(2)  # SIGINT: py-spy writes the profile and exits
        spy.wait(timeout=60)
        print(f"workload {args.workload} on {args.backend}: {results[-1]}")
        print(summarise(raw))
    finally:
        runner.close()
        bench.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _start_mltracker(bench: "cm.BackendBench") -> "cm.Server":
    bench.servers = start_servers(bench.backend, bench.dir, bench.workers, names=("mltracker",), label="profile")
    return bench.servers["mltracker"]


if __name__ == "__main__":
    sys.exit(main())
