"""An MLflow 2.x client (separate interpreter, `make` builds .venv-mlflow2) against the registry."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from registry_helpers import unique

HERE = Path(__file__).resolve().parent
MLFLOW2_PYTHON = os.environ.get("MLTRACKER_MLFLOW2_PYTHON") or str(HERE.parent.parent / ".venv-mlflow2/bin/python")


def test_mlflow2_client_register_alias_download(live_server):
    if not Path(MLFLOW2_PYTHON).exists():
        pytest.skip(f"no MLflow 2 interpreter at {MLFLOW2_PYTHON}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    result = subprocess.run(
        [MLFLOW2_PYTHON, str(HERE / "mlflow2_registry_script.py"), live_server.url, unique("mlflow2")],
        capture_output=True, text=True, timeout=300, env=env, cwd=HERE,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stderr[-3000:]
