"""Fixtures for MLflow's own server behaviours, checked through the stock client against a live
`mltracker serve` (SQLite + local folder, PostgreSQL + S3) and, side by side, the real `mlflow server`."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.conftest import S3_ENV, run_mltracker  # noqa: E402
from tests.e2e.helpers import tracking_uri_env  # noqa: E402

MLTRACKER_KINDS = ["sqlite-local", "postgres-s3"]


@pytest.fixture(scope="session")
def mltracker_sqlite_local(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compat-sqlite")
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts")) as server:
        yield server


@pytest.fixture(scope="session")
def mltracker_postgres_s3(tmp_path_factory, pg_url, s3_server):
    tmp = tmp_path_factory.mktemp("compat-postgres")
    env = {**S3_ENV, "MLFLOW_S3_ENDPOINT_URL": s3_server.endpoint}
    with run_mltracker(tmp, pg_url, f"s3://{s3_server.bucket}/compat", extra_env=env) as server:
        yield server


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """The real `mlflow server` (the reference implementation), SQLite + proxied local artifacts."""
    from tests.e2e.helpers import start_mlflow_server

    with start_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as server:
        yield server


def _mltracker(request, kind: str):
    return request.getfixturevalue("mltracker_" + kind.replace("-", "_"))


@pytest.fixture(params=MLTRACKER_KINDS)
def mltracker(request):
    """A live `mltracker serve` on each storage configuration."""
    return _mltracker(request, request.param)


@pytest.fixture(params=["mlflow-server", *MLTRACKER_KINDS])
def side_by_side(request):
    """Each server in turn: a behaviour tested with this must hold on `mlflow server` and on
    mltracker (both storage configurations) alike."""
    if request.param == "mlflow-server":
        return request.getfixturevalue("mlflow_server")
    return _mltracker(request, request.param)


@pytest.fixture
def client(mltracker):
    from mlflow import MlflowClient

    with tracking_uri_env(mltracker.url):
        yield MlflowClient(mltracker.url)


@pytest.fixture
def any_client(side_by_side):
    from mlflow import MlflowClient

    with tracking_uri_env(side_by_side.url):
        yield MlflowClient(side_by_side.url)
