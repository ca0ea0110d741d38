"""Fixtures for MLflow's own server behaviours, checked through the stock client against a live
`mltracker serve` (SQLite + local folder, PostgreSQL + S3; the servers come from tests/conftest.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.e2e.helpers import tracking_uri_env  # noqa: E402


@pytest.fixture
def client(live_server):
    from mlflow import MlflowClient

    with tracking_uri_env(live_server.url):
        yield MlflowClient(live_server.url)
