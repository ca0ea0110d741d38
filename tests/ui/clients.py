"""The stock MLflow client, as the UI tests use it against their servers."""
from __future__ import annotations

import os
from contextlib import contextmanager

import mlflow

from tests.e2e.helpers import tracking_uri_env


@contextmanager
def stock_client(url: str):
    """The fluent client on this server for tracking and the registry (another test may have left a
    registry URI of its own set globally); both put back afterwards, the environment variable that
    set_registry_uri also sets included."""
    previous = os.environ.get("MLFLOW_REGISTRY_URI")
    with tracking_uri_env(url):
        mlflow.set_registry_uri(url)
        try:
            yield
        finally:
            mlflow.set_registry_uri(None)
            if previous is None:
                os.environ.pop("MLFLOW_REGISTRY_URI", None)
            else:
                os.environ["MLFLOW_REGISTRY_URI"] = previous
