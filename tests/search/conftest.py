"""A small tracking database, on SQLite and on PostgreSQL, for the search tests.

PostgreSQL: a database of its own per test session (tests/conftest.py's fresh_pg_database).
"""
from __future__ import annotations

import uuid
from contextlib import nullcontext

import pytest
from sqlalchemy import insert

from mltracker.service.db import schema
from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import upgrade
from tests.conftest import fresh_pg_database

NAN = float("nan")

# ---------------------------------------------------------------- the sample data

# name: (project_id, lifecycle_stage, creation_time, last_update_time, tags)
EXPERIMENTS = {
    "Default": (1, "active", 1000, 5000, {}),
    "alpha-exp": (1, "active", 2000, 4000, {"owner": "Ann", "team": "x"}),
    "Beta-exp": (1, "active", 2000, 3000, {"owner": "bob", "note": "100% done"}),
    "gamma": (1, "deleted", 4000, 4000, {"owner": "ann"}),
    "other-project": (2, "active", 3000, 6000, {"owner": "Ann"}),
}

RUNS = [
    dict(
        run_uuid="run01", experiment="alpha-exp", name="alpha", user_id="alice", status="FINISHED",
        start_time=100, end_time=200, artifact_uri="s3://bucket/1", lifecycle_stage="active",
        metrics={"acc": 0.9, "loss": 0.1, "zero": 0.0},
        params={"lr": "0.01", "model": "CNN"},
        tags={"team": "Vision", "mlflow.runName": "alpha", "a b": "spaced", "x-y.z": "dashed"},
        inputs=[("mnist", "d1", "train")],
    ),
    dict(
        run_uuid="run02", experiment="alpha-exp", name="Beta", user_id="bob", status="FINISHED",
        start_time=200, end_time=300, artifact_uri="s3://bucket/2", lifecycle_stage="active",
        metrics={"acc": NAN, "loss": 0.2, "zero": NAN},
        params={"lr": "0.1", "model": "cnn"},
        tags={"team": "vision", "mlflow.runName": "Beta"},
        inputs=[("mnist", "d1", "eval"), ("cifar", "d2", "train")],
    ),
    dict(
        run_uuid="run03", experiment="alpha-exp", name="gamma", user_id="alice", status="RUNNING",
        start_time=300, end_time=None, artifact_uri="s3://bucket/3", lifecycle_stage="active",
        metrics={"acc": 0.5, "loss": float("inf")},
        params={"lr": "0.001", "model": "rnn_v1", "path": "C:\\data\\x"},
        tags={"team": "nlp"},
        inputs=[("imdb", "d3", None)],
    ),
    dict(
        run_uuid="run04", experiment="alpha-exp", name="delta", user_id="carol", status="FAILED",
        start_time=300, end_time=400, artifact_uri="s3://bucket/4", lifecycle_stage="active",
        metrics={},
        params={"model": "rnnXv1"},
        tags={},
        inputs=[],
    ),
    dict(
        run_uuid="run05", experiment="alpha-exp", name="eps", user_id="alice", status="FINISHED",
        start_time=50, end_time=60, artifact_uri="s3://bucket/5", lifecycle_stage="deleted",
        metrics={"acc": 0.95},
        params={"lr": "0.01"},
        tags={"team": "Vision"},
        inputs=[],
    ),
    dict(
        run_uuid="run06", experiment="Beta-exp", name="zeta", user_id="dave", status="KILLED",
        start_time=150, end_time=250, artifact_uri="s3://bucket/6", lifecycle_stage="active",
        metrics={"acc": 0.7, "loss": -1.0},
        params={"lr": "0.01"},
        tags={"team": "Vision"},
        inputs=[("mnist", "d9", "train")],
    ),
    dict(  # never searched: its experiment is not among those asked for
        run_uuid="run07", experiment="other-project", name="alpha", user_id="alice", status="FINISHED",
        start_time=100, end_time=200, artifact_uri="s3://bucket/7", lifecycle_stage="active",
        metrics={"acc": 0.99}, params={"lr": "0.01"}, tags={"team": "Vision"}, inputs=[],
    ),
]


def load_sample_data(db: Database) -> dict[str, int]:
    """Insert EXPERIMENTS and RUNS; returns experiment ids by name."""
    ids: dict[str, int] = {}
    with db.write() as conn:
        for name, (project_id, stage, created, updated, tags) in EXPERIMENTS.items():
            ids[name] = conn.execute(
                insert(schema.experiments).returning(schema.experiments.c.experiment_id),
                dict(project_id=project_id, name=name, artifact_location=f"s3://x/{name}",
                     lifecycle_stage=stage, creation_time=created, last_update_time=updated),
            ).scalar_one()
            for key, value in tags.items():
                conn.execute(insert(schema.experiment_tags),
                             dict(experiment_id=ids[name], key=key, value=value))
        datasets: dict[tuple[str, str, str], str] = {}
        for run in RUNS:
            experiment_id = ids[run["experiment"]]
            conn.execute(insert(schema.runs), dict(
                run_uuid=run["run_uuid"], experiment_id=experiment_id,
                project_id=EXPERIMENTS[run["experiment"]][0], name=run["name"],
                user_id=run["user_id"], status=run["status"], start_time=run["start_time"],
                end_time=run["end_time"], lifecycle_stage=run["lifecycle_stage"],
                artifact_uri=run["artifact_uri"],
            ))
            for key, value in run["metrics"].items():
                is_nan = value != value
                conn.execute(insert(schema.latest_metrics), dict(
                    run_uuid=run["run_uuid"], key=key, value=0.0 if is_nan else value,
                    timestamp=1, step=0, is_nan=is_nan,
                ))
            for table, values in ((schema.params, run["params"]), (schema.tags, run["tags"])):
                for key, value in values.items():
                    conn.execute(insert(table), dict(run_uuid=run["run_uuid"], key=key, value=value))
            for name, digest, context in run["inputs"]:
                dataset_key = (run["experiment"], name, digest)
                if dataset_key not in datasets:
                    datasets[dataset_key] = uuid.uuid4().hex
                    conn.execute(insert(schema.datasets), dict(
                        dataset_uuid=datasets[dataset_key], experiment_id=experiment_id, name=name,
                        digest=digest, source_type="local", source="{}",
                    ))
                input_uuid = uuid.uuid4().hex
                conn.execute(insert(schema.run_inputs), dict(
                    input_uuid=input_uuid, run_uuid=run["run_uuid"], dataset_uuid=datasets[dataset_key],
                ))
                if context is not None:
                    conn.execute(insert(schema.input_tags), dict(
                        input_uuid=input_uuid, name="mlflow.data.context", value=context,
                    ))
    return ids


# ---------------------------------------------------------------- databases

@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def search_db(request, tmp_path_factory):
    """(Database, experiment ids by name) with the sample data loaded."""
    if request.param == "sqlite":
        database_url = nullcontext(f"sqlite:///{tmp_path_factory.mktemp('search')}/search.db")
    else:
        database_url = fresh_pg_database()
    with database_url as url:
        db = Database(url)
        try:
            upgrade(db)
            yield db, load_sample_data(db)
        finally:
            db.dispose()


@pytest.fixture
def sample_conn(search_db):
    """A read connection on the sample data (loaded once per session, never written by a test;
    not the root `conn` fixture's empty, rolled-back transaction)."""
    db, _ = search_db
    with db.read() as connection:
        yield connection


@pytest.fixture
def exp_ids(search_db):
    return search_db[1]


@pytest.fixture(scope="session")
def sample_runs():
    return RUNS


@pytest.fixture(scope="session")
def sample_experiments():
    return EXPERIMENTS
