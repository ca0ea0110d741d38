"""The GenAI evaluation tests use the MLflow-compatibility fixtures: live `mltracker serve` on
SQLite + local folder and PostgreSQL + S3, and the real `mlflow server` side by side."""
from __future__ import annotations

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.mlflow_compat.conftest import (  # noqa: E402,F401
    any_client,
    client,
    mlflow_server,
    mltracker,
    mltracker_postgres_s3,
    mltracker_sqlite_local,
    side_by_side,
)
