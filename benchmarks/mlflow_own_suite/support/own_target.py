"""Which server MLflow's own server tests talk to, and mltracker's lifecycle for them.

OWN_TARGET=mlflow (default): MLflow's fixtures run unchanged (an in-process `mlflow server` app on
SQLite, as MLflow's CI runs them). OWN_TARGET=mltracker-sqlite | mltracker-postgres: the same tests
talk to one `mltracker serve` (gunicorn, as users run it), whose database and artifact folder are
emptied before each test, so every test starts from a fresh server state as it does in MLflow.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

TARGET = os.environ.get("OWN_TARGET", "mlflow")
PG_ADMIN_URL = os.environ.get("OWN_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
START_TIMEOUT_S = float(os.environ.get("OWN_START_TIMEOUT_S", "180"))


def is_mltracker() -> bool:
    return TARGET.startswith("mltracker")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_argv() -> list[str]:
    """The command that starts the server under test (its options are the ones both CLIs share)."""
    if is_mltracker():
        return [sys.executable, "-m", "mltracker.service.cli", "serve"]
    return [sys.executable, "-m", "mlflow", "server"]


def _server_env(extra: dict | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRACKER_")}
    env.update(extra or {})
    return env


@contextmanager
def _backend(workdir: Path):
    if TARGET == "mltracker-postgres":
        from sqlalchemy import create_engine, text

        name = f"own_suite_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        yield f"sqlite:///{workdir}/mltracker.db"


def _wait_healthy(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(url + "/health", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"mltracker did not start at {url}:\n{log_path.read_text(errors='replace')[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def launch_mltracker(port: int, artifacts_destination, extra_env: dict | None = None):
    """`mltracker serve` on `port` with a backend of its own; yields (process, backend URI)."""
    workdir = Path(tempfile.mkdtemp(prefix="own-mltracker-"))
    with _backend(workdir) as backend:
        cmd = [*server_argv(), "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
               "--backend-store-uri", backend, "--artifacts-destination", str(artifacts_destination)]
        log_path = workdir / "server.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=workdir, env=_server_env(extra_env), stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_healthy(f"http://127.0.0.1:{port}", proc, log_path)
            yield proc, backend
        finally:
            _stop(proc)
    shutil.rmtree(workdir, ignore_errors=True)


class _SharedServer:
    """One `mltracker serve` for the whole run, emptied before each test."""

    def __init__(self):
        self._stack = ExitStack()
        self.artifacts = Path(tempfile.mkdtemp(prefix="own-artifacts-"))
        port = free_port()
        _, backend = self._stack.enter_context(launch_mltracker(port, self.artifacts))
        self.url = f"http://127.0.0.1:{port}"
        from mltracker.service.db.engine import Database

        self.db = Database(backend)
        atexit.register(self.close)

    def reset(self) -> str:
        from sqlalchemy import text

        from mltracker.service.context import LOCAL_PROJECT_ID
        from mltracker.service.db.tables import metadata
        from mltracker.service.tracking.experiments import ensure_default_experiment

        with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                # ids restart from 1 as in a fresh database (SQLite reuses them by itself): MLflow's
                # tests pass ids where the client turns a lone "12" into ["1", "2"]
                names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
            ensure_default_experiment(conn, LOCAL_PROJECT_ID, use_alias_id=True)
        for child in self.artifacts.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        return self.url

    def close(self):
        self.db.dispose()
        self._stack.close()
        shutil.rmtree(self.artifacts, ignore_errors=True)


_shared: _SharedServer | None = None


def fresh_mltracker_url() -> str:
    """The shared mltracker's URL, its state emptied (Default experiment only)."""
    global _shared
    if _shared is None:
        _shared = _SharedServer()
    return _shared.reset()
