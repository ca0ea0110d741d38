"""Registry fixtures: an upgraded database (SQLite file and PostgreSQL) for domain tests, and the
stock MLflow client pointed at a live mltracker (tests/conftest.py's `live_server`)."""
from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

from registry_helpers import unique
from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    """A schema-at-head Database. PostgreSQL: the session's test database (`pg_url`, shared with
    other suites), so tests use unique names and project ids of their own."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/registry.db")
    else:
        database = Database(request.getfixturevalue("pg_url"))
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def client(live_server, monkeypatch):
    """The stock MlflowClient (and fluent API) talking to the live server."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", live_server.url)
    # set_registry_uri also exports MLFLOW_REGISTRY_URI; set through monkeypatch first so that it is
    # restored, and later tests are not pointed at this (by then stopped) server.
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", live_server.url)
    mlflow.set_tracking_uri(live_server.url)
    mlflow.set_registry_uri(live_server.url)
    yield MlflowClient(live_server.url, live_server.url)
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_registry_uri(None)


@pytest.fixture
def experiment_id(client):
    experiment_id = client.create_experiment(unique("registry"))
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id
