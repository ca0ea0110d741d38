"""`mltracker import mlflow` end to end: a real `mlflow server` populated by the stock client,
imported into mltracker (SQLite + local folder, PostgreSQL + S3), then read back through the
stock client from `mltracker serve` and compared with the source item by item."""
from __future__ import annotations

import signal
import uuid

import pandas as pd
import pytest
from mlflow import MlflowClient
from sqlalchemy import text

from tests.conftest import run_mltracker
from tests.importer.slow_source import slowed
from tests.importer.compare import assert_same, predictions, snapshot
from tests.importer.store_state import database_rows, done_runs, stored_objects, wait_for_a_finished_run
from tests.importer.targets import make_target

pytestmark = pytest.mark.e2e

EXPERIMENTS = ["imp-alpha", "imp-beta"]


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-s3"])
def kind(request):
    return request.param


@pytest.fixture(scope="module")
def s3(kind, request):
    return request.getfixturevalue("s3_server") if kind == "postgres-s3" else None


@pytest.fixture(scope="module")
def source_snapshot(source):
    server, _ = source
    return snapshot(server.url, EXPERIMENTS)


@pytest.fixture(scope="module")
def imported(kind, s3, source, tmp_path_factory):
    """The source imported once into a fresh target, served by `mltracker serve`."""
    server, _ = source
    tmp = tmp_path_factory.mktemp(f"import-{kind}")
    with make_target(kind, tmp, s3) as target:
        first = target.run_import(server.url)
        with run_mltracker(tmp, target.backend_store_uri, target.artifacts_destination, extra_env=target.env) as live:
            yield target, live, first


def test_import_copies_everything_item_by_item(imported, source_snapshot):
    target, live, first = imported
    assert "conflicts: 0" in first.stdout, first.stdout
    assert any(model["metrics"] for model in source_snapshot["logged_models"].values())
    assert_same(source_snapshot, snapshot(live.url, EXPERIMENTS))


def test_source_experiment_ids_are_recorded(imported, source):
    server, logged = source
    _, live, _ = imported
    for source_id, name in zip(logged["experiments"], EXPERIMENTS):
        experiment = MlflowClient(live.url).get_experiment_by_name(name)
        assert experiment.tags["mltracker.import.source_experiment_id"] == source_id
        assert experiment.tags["mltracker.import.source"] == server.url


def test_registered_model_loads_and_predicts_as_on_the_source(imported, source):
    server, _ = source
    _, live, _ = imported
    frame = pd.DataFrame({"x": [1.0, 2.5, -3.0]})
    for alias in ("champion", "baseline"):
        uri = f"models:/doubler@{alias}"
        expected = predictions(server.url, uri, frame)
        assert predictions(live.url, uri, frame).equals(expected)


def test_a_second_import_changes_nothing(imported, source, s3):
    server, _ = source
    target, _, _ = imported
    rows, objects = database_rows(target.backend_store_uri), stored_objects(target.artifacts_destination, s3)
    second = target.run_import(server.url)
    assert "runs: 0 copied, 0 resumed" in second.stdout, second.stdout
    assert "metric points: 0" in second.stdout
    assert database_rows(target.backend_store_uri) == rows
    assert stored_objects(target.artifacts_destination, s3) == objects


def test_killed_midway_then_resumed_ends_in_the_same_state(kind, s3, source, source_snapshot, tmp_path_factory):
    server, _ = source
    tmp = tmp_path_factory.mktemp(f"killed-{kind}")
    with make_target(kind, tmp, s3) as target, slowed(server.url) as slow_source:
        proc = target.start_import(slow_source.url, "--workers", "1")
        try:
            wait_for_a_finished_run(target.backend_store_uri, proc)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
        assert done_runs(target.backend_store_uri) < len(source_snapshot["runs"])

        slow_source.pause_s = 0
        resumed = target.run_import(slow_source.url)
        assert "resumed" in resumed.stdout and "conflicts: 0" in resumed.stdout, resumed.stdout
        with run_mltracker(tmp, target.backend_store_uri, target.artifacts_destination, extra_env=target.env) as live:
            assert_same(source_snapshot, snapshot(live.url, EXPERIMENTS))


def test_ctrl_c_stops_with_a_summary_then_resumes(source, source_snapshot, tmp_path_factory):
    server, _ = source
    tmp = tmp_path_factory.mktemp("ctrl-c")
    with make_target("sqlite-local", tmp) as target, slowed(server.url) as slow_source:
        proc = target.start_import(slow_source.url, "--workers", "1")
        try:
            wait_for_a_finished_run(target.backend_store_uri, proc)
            proc.send_signal(signal.SIGINT)
            stdout, _ = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, f"the import finished before it could be interrupted?\n{stdout.decode()}"
        assert "import summary" in stdout.decode()
        assert "interrupted: run the same command again to resume" in stdout.decode()

        slow_source.pause_s = 0
        resumed = target.run_import(slow_source.url)
        assert "conflicts: 0" in resumed.stdout, resumed.stdout
        with run_mltracker(tmp, target.backend_store_uri, target.artifacts_destination, extra_env=target.env) as live:
            assert_same(source_snapshot, snapshot(live.url, EXPERIMENTS))


# The planning below does not depend on the store's dialect: SQLite only, to keep the suite short.

def test_dry_run_lists_and_writes_nothing(source, tmp_path_factory):
    server, logged = source
    tmp = tmp_path_factory.mktemp("dry")
    with make_target("sqlite-local", tmp) as target:
        dry = target.run_import(server.url, "--dry-run")
        for run_id in (logged["parent"], logged["child"], logged["deleted"]):
            assert f"would copy run {run_id}" in dry.stdout, dry.stdout
        assert "would copy registered model 'doubler' with 2 versions" in dry.stdout
        assert stored_objects(target.artifacts_destination) == {}
        assert not (tmp / "mltracker.db").exists()

        since = target.run_import(server.url, "--dry-run", "--since", "2999-01-01")
        assert "would copy run" not in since.stdout
        assert "0 copied, 0 resumed, 0 unchanged, 5 skipped" in since.stdout, since.stdout


def test_a_present_run_with_other_data_is_a_conflict_and_kept(source, tmp_path_factory):
    server, logged = source
    tmp = tmp_path_factory.mktemp("conflict")
    with make_target("sqlite-local", tmp) as target:
        target.run_import(server.url, "--experiment", "imp-alpha", "--no-models")
        _sql(target.backend_store_uri,
             f"UPDATE params SET value = '0.02' WHERE key = 'lr' AND run_uuid = '{logged['parent']}'",
             "DELETE FROM import_progress WHERE kind = 'run'")  # as if these runs came from elsewhere

        dry = target.run_import(server.url, "--experiment", "imp-alpha", "--no-models", "--dry-run", check=False)
        assert f"run {logged['parent']} exists with different params" in dry.stdout, dry.stdout
        again = target.run_import(server.url, "--experiment", "imp-alpha", "--no-models", check=False)
        assert again.returncode == 3, again.stdout + again.stderr
        assert f"run {logged['parent']} exists with different params" in again.stdout
        assert "runs: 0 copied, 0 resumed, 3 unchanged" in again.stdout, again.stdout
        with run_mltracker(tmp, target.backend_store_uri, target.artifacts_destination, extra_env=target.env) as live:
            assert MlflowClient(live.url).get_run(logged["parent"]).data.params["lr"] == "0.02"


def test_a_run_our_store_refuses_is_a_conflict_and_the_rest_of_its_batch_goes_on(source, tmp_path_factory):
    server, logged = source
    tmp = tmp_path_factory.mktemp("refused")
    with make_target("sqlite-local", tmp) as target:
        target.run_import(server.url, "--experiment", "imp-alpha", "--no-models")
        _sql(target.backend_store_uri,
             f"UPDATE params SET value = '0.02' WHERE key = 'lr' AND run_uuid = '{logged['parent']}'",
             "UPDATE import_progress SET state = 'started' WHERE kind = 'run'")  # as if interrupted

        # One worker: the four runs are one batch, written together until the store refuses one.
        again = target.run_import(server.url, "--experiment", "imp-alpha", "--no-models", "--workers", "1",
                                  check=False)
        assert again.returncode == 3, again.stdout + again.stderr
        assert f"run {logged['parent']}: " in again.stdout and "conflicts: 1" in again.stdout, again.stdout
        assert "runs: 0 copied, 3 resumed, 0 unchanged" in again.stdout, again.stdout
        assert done_runs(target.backend_store_uri) == 3
        with run_mltracker(tmp, target.backend_store_uri, target.artifacts_destination, extra_env=target.env) as live:
            assert MlflowClient(live.url).get_run(logged["parent"]).data.params["lr"] == "0.02"


def _sql(uri: str, *statements: str) -> None:
    from mltracker.service.db.engine import Database

    db = Database(uri)
    try:
        with db.write() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        db.dispose()


def test_unknown_experiment_is_reported(source, tmp_path_factory):
    server, _ = source
    tmp = tmp_path_factory.mktemp("unknown")
    with make_target("sqlite-local", tmp) as target:
        proc = target.run_import(server.url, "--experiment", f"nope-{uuid.uuid4().hex[:6]}", "--dry-run", check=False)
        assert proc.returncode == 1 and "not found on the source" in proc.stdout
