"""Fixtures for the end-to-end tests (the live servers themselves come from tests/conftest.py)."""
from __future__ import annotations

import os
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

# tests/ has no __init__.py; make `tests.e2e.helpers` importable under that unambiguous name.
_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.e2e.helpers import Trained, fetch_trained, run_train


@contextmanager
def tracking_uri_env(uri: str):
    """MLFLOW_TRACKING_URI as a user's shell would set it: the stock client resolves
    `mlflow-artifacts:` URIs (artifact proxying) and `mlflow.search_runs` against it."""
    import mlflow

    old_env = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        if old_env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old_env
        mlflow.set_tracking_uri(None)


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


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """The real `mlflow server` (the reference implementation), SQLite + proxied local artifacts."""
    from tests.e2e.helpers import start_mlflow_server

    with start_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as server:
        yield server


REFERENCE_MODE = os.environ.get("E2E_AGAINST_MLFLOW_SERVER") == "1"
if REFERENCE_MODE:
    # Checking the tests themselves: E2E_AGAINST_MLFLOW_SERVER=1 runs the e2e tests that do not
    # depend on mltracker-only features against the real mlflow server, which must pass them.
    @pytest.fixture(scope="session")
    def live_server(mlflow_server):
        return mlflow_server


def mltracker_only(reason: str):
    """Mark a test that checks mltracker-specific behaviour (skipped in reference mode only)."""
    return pytest.mark.skipif(REFERENCE_MODE, reason=f"mltracker-only: {reason}")
