"""Fixtures for the end-to-end tests (the live servers themselves come from tests/conftest.py)."""
from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import pytest

# tests/ has no __init__.py; make `tests.e2e.helpers` importable under that unambiguous name.
_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.e2e.helpers import REFERENCE_MODE, Trained, fetch_trained, run_train, tracking_uri_env


@pytest.fixture
def client(live_server):
    from mlflow import MlflowClient

    with tracking_uri_env(live_server.url):
        yield MlflowClient(live_server.url)


@pytest.fixture(scope="module")
def trained(live_server, tmp_path_factory) -> Trained:
    """train.py run once per module and server, in an experiment of its own."""
    from mlflow import MlflowClient

    name = f"e2e-{uuid.uuid4().hex[:8]}"
    cwd = tmp_path_factory.mktemp("train")
    before = int(time.time() * 1000)
    summary = run_train(live_server.url, name, cwd)
    summary["wall_clock"] = (before, int(time.time() * 1000))
    with tracking_uri_env(live_server.url):
        return fetch_trained(MlflowClient(live_server.url), live_server.url, summary)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """The real `mlflow server` (the reference implementation), SQLite + proxied local artifacts."""
    from tests.e2e.helpers import start_mlflow_server

    with start_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as server:
        yield server


if REFERENCE_MODE:
    # Checking the tests themselves: E2E_AGAINST_MLFLOW_SERVER=1 runs the e2e tests that do not
    # depend on mltracker-only features against the real mlflow server, which must pass them.
    @pytest.fixture(scope="session")
    def live_server(mlflow_server):
        return mlflow_server
