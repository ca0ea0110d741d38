"""The servers a benchmark compares: `mlflow server` (pinned) and `mltracker serve`, each on a fresh
store of one backend, started together and stopped together (their PostgreSQL databases dropped).

    servers = start_servers("postgresql", workdir, workers=2, mlflow_bin=mlflow_server_bin())
    try:
        for name, server in servers.items(): ...      # name is "mlflow" or "mltracker"
    finally:
        servers.stop()
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUR_BIN = ROOT / ".venv" / "bin"
MLFLOW_VERSION = "3.17.2"  # newest mlflow 3.x whose wheels the package index serves here
MLFLOW_VENV = BENCH / ".venv-mlflow-server"
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVER_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "600",
    "PYTHONUNBUFFERED": "1",
}
# uvicorn restarts a worker that misses a 5 s health check, which a loaded machine makes happen at
# start-up and under load over and over; mlflow server then drops connections mid-workload.
MLFLOW_UVICORN_OPTS = ["--uvicorn-opts", "--timeout-worker-healthcheck 120"]
START_TIMEOUT = 600  # mlflow server takes minutes to start on a loaded machine


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the pinned mlflow server

def ensure_mlflow_venv() -> Path:
    """mlflow server in its own virtual environment (its own dependency versions), installed once."""
    python = MLFLOW_VENV / "bin" / "python"
    mlflow = MLFLOW_VENV / "bin" / "mlflow"
    if python.exists():
        probe = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('mlflow'))"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == MLFLOW_VERSION:
            return mlflow
    log(f"installing mlflow=={MLFLOW_VERSION} server into {MLFLOW_VENV} (one-off, a few minutes)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(MLFLOW_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"mlflow=={MLFLOW_VERSION}", "psycopg[binary]",
                    "psycopg2-binary"], check=True)
    return mlflow


def client_mlflow_bin() -> Path:
    """The test environment's own mlflow when it is the pinned version (no second install), else the
    pinned server's virtual environment."""
    import importlib.metadata

    if importlib.metadata.version("mlflow") == MLFLOW_VERSION and (OUR_BIN / "mlflow").exists():
        return OUR_BIN / "mlflow"
    return ensure_mlflow_venv()


# ---------------------------------------------------------------- PostgreSQL

def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def pg_dsn(database: str) -> str:
    return f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{database}"


# ---------------------------------------------------------------- one server process

class Server:
    def __init__(self, name: str, cmd: list[str], port: int, log_path: Path, env: dict | None = None):
        self.name, self.cmd, self.port, self.log_path = name, cmd, port, log_path
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **SERVER_ENV, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Server":
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log_file, stderr=subprocess.STDOUT, env=self.env,
                                     cwd=self.log_path.parent, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + self.log_path.read_text()[-3000:])
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self, grace: float = 3) -> None:
        self.terminate()
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)  # the server's own process group only
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if getattr(self, "log_file", None) and not self.log_file.closed:
            self.log_file.close()

    def pids(self) -> list[int]:
        """The server process and all its descendants (gunicorn/uvicorn workers)."""
        return descendants(proc_table(), self.proc.pid)


_TICKS = os.sysconf("SC_CLK_TCK")


def proc_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds so far) for every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return table


def descendants(table: dict, root: int) -> list[int]:
    """`root` and every process below it in `table` (from proc_table)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(p for p, (parent, _, _) in table.items() if parent == pid)
    return found


def proc_status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss(pids: list[int]) -> None:
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            pass


# ---------------------------------------------------------------- the servers of one backend

class ServerSet(dict):
    """name -> Server, plus each server's store (for seeding) and the databases to drop at the end."""

    def __init__(self, backend: str):
        super().__init__()
        self.backend = backend
        self.stores: dict[str, tuple[str, str]] = {}  # name -> ("sqlite", path) or ("postgresql", dsn)
        self.databases: list[str] = []

    def wait_ready(self) -> None:
        for server in self.values():
            server.wait_ready()

    def stop(self) -> None:
        for server in self.values():
            server.terminate()
        for server in self.values():
            server.stop()
        for database in self.databases:
            try:
                pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            except Exception as exc:  # noqa: BLE001 - a leftover database must not hide the results
                log(f"could not drop {database}: {exc}")
        self.databases = []


def start_servers(backend: str, workdir: Path, workers: int, *, mlflow_bin: Path | str | None = None,
                  names: tuple[str, ...] = ("mlflow", "mltracker"), label: str = "bench", env: dict | None = None,
                  wait: bool = True) -> ServerSet:
    """Each named server on its own fresh store of `backend` ("sqlite" or "postgresql"), with the same
    worker count; files (SQLite, artifacts, logs) under `workdir`. With wait=False the caller calls
    wait_ready() itself (e.g. to start several backends' servers at once)."""
    workdir.mkdir(parents=True, exist_ok=True)
    servers = ServerSet(backend)
    try:
        for name in names:
            if backend == "sqlite":
                path = workdir / f"{name}.db"
                uri = f"sqlite:///{path}"
                servers.stores[name] = ("sqlite", str(path))
            elif backend == "postgresql":
                database = f"{label}_{name}_{os.getpid()}"
                pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
                pg_admin(f"CREATE DATABASE {database}")
                servers.databases.append(database)
                dsn = pg_dsn(database)
                uri = dsn if name == "mlflow" else dsn.replace("postgresql://", "postgresql+psycopg://", 1)
                servers.stores[name] = ("postgresql", dsn)
            else:
                raise ValueError(f"unknown backend {backend!r}")
            port = free_port()
            common = ["--host", "127.0.0.1", "--port", str(port), "--backend-store-uri", uri,
                      "--artifacts-destination", str(workdir / f"{name}-artifacts"), "--workers", str(workers)]
            if name == "mlflow":
                cmd = [str(mlflow_bin or ensure_mlflow_venv()), "server", *common, *MLFLOW_UVICORN_OPTS]
            else:
                cmd = [str(OUR_BIN / "mltracker"), "serve", *common]
            servers[name] = Server(name, cmd, port, workdir / f"{name}-server.log", env=env).start()
        if wait:
            servers.wait_ready()
    except BaseException:
        servers.stop()
        raise
    return servers
