"""Concurrent create_model_version for one model never hands out the same version number.

Two levels: the domain service with many threads, each in its own write transaction, directly on
SQLite and PostgreSQL; and many stock clients at once against `mltracker serve` (several worker
processes) on both configurations.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from mlflow import MlflowClient

from registry_helpers import make_experiment, make_run, unique, unique_project
from mltracker.service.registry import registered_models as rms
from mltracker.service.registry import versions

WRITERS = 8
PER_WRITER = 6


def test_parallel_writers_get_distinct_numbers(db):
    project = unique_project()
    run_id = make_run(db, project, make_experiment(db, project))
    name = unique("parallel")
    with db.write() as conn:
        rms.create(conn, project, name)
        root = versions_root(conn, run_id)

    def writer(_):
        numbers = []
        for _ in range(PER_WRITER):
            with db.write() as conn:
                numbers.append(versions.create(conn, project, name, f"{root}/model", run_id=run_id).version)
        return numbers

    with ThreadPoolExecutor(WRITERS) as pool:
        numbers = [n for batch in pool.map(writer, range(WRITERS)) for n in batch]
    assert sorted(numbers) == list(range(1, WRITERS * PER_WRITER + 1))
    with db.read() as conn:
        assert rms.get_row(conn, project, name).last_version == WRITERS * PER_WRITER


def versions_root(conn, run_id: str) -> str:
    from sqlalchemy import select

    from mltracker.service.db.schema import runs

    return conn.execute(select(runs.c.artifact_uri).where(runs.c.run_uuid == run_id)).scalar_one()


def test_parallel_clients_against_live_server(live_server):
    client = MlflowClient(live_server.url, live_server.url)
    experiment_id = client.create_experiment(unique("concurrency"))
    run = client.create_run(experiment_id)
    name = unique("race")
    client.create_registered_model(name)
    source = f"{run.info.artifact_uri}/model"

    def writer(_):
        own = MlflowClient(live_server.url, live_server.url)
        return [own.create_model_version(name, source, run_id=run.info.run_id).version for _ in range(4)]

    with ThreadPoolExecutor(12) as pool:
        numbers = [int(v) for batch in pool.map(writer, range(12)) for v in batch]
    assert sorted(numbers) == list(range(1, 49))
    listed = client.search_model_versions(f"name = '{name}'", max_results=100)
    assert sorted(int(mv.version) for mv in listed) == list(range(1, 49))
