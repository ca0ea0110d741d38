"""Import targets as users configure them, and the import command run as users run it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import S3_ENV, fresh_pg_database


@dataclass
class Target:
    backend_store_uri: str
    artifacts_destination: str
    env: dict
    tmp: Path

    def command(self, source_uri: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "mltracker.service.cli", "import", "mlflow", source_uri,
                "--backend-store-uri", self.backend_store_uri,
                "--artifacts-destination", self.artifacts_destination, *extra]

    def run_import(self, source_uri: str, *extra: str, env: dict | None = None,
                   check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.command(source_uri, *extra), env={**self.env, **(env or {})},
                              cwd=self.tmp, capture_output=True, text=True, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"import exited with {proc.returncode}\n{proc.stdout}\n{proc.stderr[-5000:]}")
        return proc

    def start_import(self, source_uri: str, *extra: str) -> subprocess.Popen:
        """The import as started from a terminal, where Ctrl-C reaches it. `make test` runs each half
        of the suite in the background (`&` in a script), which makes SIGINT ignored for everything
        it starts, and Python then never installs its KeyboardInterrupt handler."""
        return subprocess.Popen(self.command(source_uri, *extra), env=self.env, cwd=self.tmp,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=_interruptible)


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLTRACKER_", "MLFLOW_"))}


@contextmanager
def make_target(kind: str, tmp: Path, s3=None):
    """kind "sqlite-local" or "postgres-s3" (s3: the moto server fixture)."""
    with (nullcontext(f"sqlite:///{tmp}/mltracker.db") if kind == "sqlite-local" else fresh_pg_database()) as url:
        if kind == "sqlite-local":
            yield Target(url, str(tmp / "artifacts"), clean_env(), tmp)
        else:
            env = {**clean_env(), **S3_ENV, "MLFLOW_S3_ENDPOINT_URL": s3.endpoint}
            yield Target(url, f"s3://{s3.bucket}/{uuid.uuid4().hex[:8]}", env, tmp)
