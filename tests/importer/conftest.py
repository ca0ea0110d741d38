"""Fixtures for the importer tests: a real `mlflow server` populated by the stock client, and
targets (SQLite + local folder, PostgreSQL + S3) read back through `mltracker serve`."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.e2e.helpers import run_script, start_mlflow_server  # noqa: E402

POPULATE = Path(__file__).resolve().parent / "populate.py"


@pytest.fixture(scope="session")
def source(tmp_path_factory):
    """(mlflow server, what populate.py logged to it)."""
    tmp = tmp_path_factory.mktemp("source")
    with start_mlflow_server(tmp) as server:
        logged = run_script(sys.executable, POPULATE, server.url, tmp_path_factory.mktemp("populate"), timeout=600)
        yield server, logged
