"""Temp files of killed uploads do not stay forever: the server removes stale ones when it starts
and periodically, and leaves fresh ones (uploads in progress) and everything else alone."""
from __future__ import annotations

import os
import time

from mltracker.service.artifacts.local import TEMP_PREFIX
from mltracker.service.artifacts.sweeper import sweep_stale_uploads
from tests.conftest import run_mltracker

HOUR = 3600


def _temp(folder, name: str, age: float):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{TEMP_PREFIX}{name}"
    path.write_bytes(b"partial")
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_stale_temp_files_go_fresh_ones_and_artifacts_stay(tmp_path):
    run = tmp_path / "0" / "1" / "r" / "artifacts"
    stale, fresh = _temp(run, "old", 2 * HOUR), _temp(run, "new", 60)
    kept = run / "model.pkl"
    kept.write_bytes(b"model")
    os.utime(kept, (0, 0))
    assert sweep_stale_uploads(str(tmp_path), max_age=HOUR) == 1
    assert not stale.exists() and fresh.exists() and kept.exists()


def test_the_server_sweeps_at_start_and_periodically(tmp_path):
    artifacts = tmp_path / "artifacts"
    at_start = _temp(artifacts / "0" / "1" / "a" / "artifacts", "killed", 2 * HOUR)
    env = {"MLTRACKER_UPLOAD_TEMP_MAX_AGE": str(HOUR), "MLTRACKER_UPLOAD_SWEEP_INTERVAL": "1"}
    with run_mltracker(tmp_path, f"sqlite:///{tmp_path}/m.db", str(artifacts), extra_env=env, workers=1):
        _wait_until_gone(at_start)
        later = _temp(artifacts / "0" / "2" / "b" / "artifacts", "killed-later", 2 * HOUR)
        _wait_until_gone(later)


def _wait_until_gone(path, limit: float = 30):
    deadline = time.monotonic() + limit
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not path.exists(), f"{path.name} was not swept within {limit}s"
