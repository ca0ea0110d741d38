"""Shared fixtures: real PostgreSQL databases, a moto S3 server, live mltracker servers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

PG_ADMIN_URL = os.environ.get("MLTRACKER_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


# ---------------------------------------------------------------- PostgreSQL

def _pg_available() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"


@contextmanager
def fresh_pg_database():
    """A new, empty database for this test run; dropped afterwards."""
    from sqlalchemy import create_engine, text

    reason = _pg_available()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    name = f"mltracker_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url():
    with fresh_pg_database() as url:
        yield url


# ---------------------------------------------------------------- S3 (moto)

@dataclass
class S3Server:
    endpoint: str
    bucket: str

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")


S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(endpoint, proc=proc)
        for key, value in S3_ENV.items():
            os.environ.setdefault(key, value)
        server = S3Server(endpoint=endpoint, bucket=f"mltracker-{uuid.uuid4().hex[:8]}")
        server.client().create_bucket(Bucket=server.bucket)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---------------------------------------------------------------- live mltracker servers

@dataclass
class LiveServer:
    url: str
    backend_store_uri: str
    artifacts_destination: str
    env: dict
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


# A loaded machine (a CI runner, or the whole suite in two halves) can take most of a minute to
# import the server's workers.
STARTUP_TIMEOUT_S = 180.0


@contextmanager
def run_mltracker(tmp_dir: Path, backend_store_uri: str, artifacts_destination: str, extra_env=None, workers=2):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRACKER_")}
    env.update(extra_env or {})
    log_path = tmp_dir / f"mltracker-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mltracker.service.cli", "serve", "--port", str(port), "--workers", str(workers),
             "--backend-store-uri", backend_store_uri, "--artifacts-destination", artifacts_destination],
            cwd=tmp_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(url + "/health", timeout=STARTUP_TIMEOUT_S, proc=proc)
        except Exception:
            raise RuntimeError(f"mltracker did not start:\n{log_path.read_text(errors='replace')}") from None
        yield LiveServer(url, backend_store_uri, artifacts_destination, env, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session", params=["sqlite-local", "postgres-s3"])
def live_server(request, tmp_path_factory):
    """mltracker serve as users run it, on SQLite + local folder and on PostgreSQL + S3."""
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite-local":
        with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts")) as server:
            yield server
    else:
        pg = request.getfixturevalue("pg_url")
        s3 = request.getfixturevalue("s3_server")
        env = {**S3_ENV, "MLFLOW_S3_ENDPOINT_URL": s3.endpoint}
        with run_mltracker(tmp, pg, f"s3://{s3.bucket}/artifacts", extra_env=env) as server:
            yield server


@contextmanager
def migrated_database(kind: str, tmp_dir: Path):
    """A Database at the latest schema: "sqlite" (a file in tmp_dir) or "postgresql" (a fresh database)."""
    from mltracker.service.db.engine import Database
    from mltracker.service.db.migrate import upgrade

    with (nullcontext(f"sqlite:///{tmp_dir}/test.db") if kind == "sqlite" else fresh_pg_database()) as url:
        db = Database(url)
        try:
            upgrade(db)
            yield db
        finally:
            db.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """A migrated Database on SQLite and on PostgreSQL, shared by a test module."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as db:
        yield db


@pytest.fixture
def conn(database):
    """A connection inside a transaction that is rolled back after the test: each test sees only
    the rows it wrote (tests/factories.py makes them), on SQLite and on PostgreSQL."""
    with database.engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


# The GitLab stand-in and mltracker in GitLab mode, for every folder that tests GitLab mode.
from tests.fakes.gitlab_fixtures import client_as, fake_gitlab, gitlab_server, scenario  # noqa: E402, F401
