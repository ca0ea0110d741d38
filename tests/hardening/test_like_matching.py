"""LIKE and ILIKE on every search, on SQLite and PostgreSQL: MLflow's results, and a pattern
with many `%` against a long value answers at once (a backtracking matcher takes minutes)."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from mltracker.service.db import schema
from mltracker.service.db.registry_schema import logged_models, model_versions, registered_models
from mltracker.service.logged_models import search as logged_model_search
from mltracker.service.registry.search import search_model_versions, search_registered_models
from mltracker.service.search.experiments import search_experiment_ids
from mltracker.service.search.filter_parser import parse_filter
from mltracker.service.search.run_vocabulary import RunVocabulary
from mltracker.service.search.runs import count_runs, search_run_ids

PROJECT = 7
HOSTILE = "a" * 120 + "B"
HOSTILE_PATTERN = "%a%a%a%a%a%b"  # matches nothing (LIKE is case-sensitive), slowly if backtracking
NAMES = [HOSTILE, "Alpha*", "alpha?", "al[ph]a", "ALPHA", "al_ha", "50% off", "C:\\data"]


@pytest.fixture(scope="module")
def loaded(database):
    ids = {}
    with database.write() as conn:
        for name in NAMES:
            exp = conn.execute(insert(schema.experiments).returning(schema.experiments.c.experiment_id), dict(
                project_id=PROJECT, name=name, artifact_location="x", lifecycle_stage="active",
                creation_time=1, last_update_time=1)).scalar_one()
            ids[name] = exp
            run_uuid = f"run{len(ids):02d}"
            conn.execute(insert(schema.runs), dict(
                run_uuid=run_uuid, experiment_id=exp, project_id=PROJECT, name=name, user_id="u",
                status="FINISHED", start_time=len(ids), end_time=None, lifecycle_stage="active",
                artifact_uri="x"))
            conn.execute(insert(schema.params), dict(run_uuid=run_uuid, key="p", value=name))
            model = conn.execute(insert(registered_models).returning(registered_models.c.id), dict(
                project_id=PROJECT, name=name, creation_time=1, last_updated_time=1, last_version=1,
            )).scalar_one()
            conn.execute(insert(model_versions), dict(
                registered_model_id=model, version=1, creation_time=1, last_updated_time=1,
                current_stage="None", source="x", storage_location="x", status="READY"))
            conn.execute(insert(logged_models), dict(
                model_id=f"m-{run_uuid}", project_id=PROJECT, experiment_id=exp, name=name,
                artifact_location="x", creation_timestamp_ms=1, last_updated_timestamp_ms=1, status=2,
                lifecycle_stage="active"))
    return database, ids


def _run_names(conn, ids, filter_string):
    run_ids, _ = search_run_ids(conn, experiment_ids=list(ids.values()), filter_string=filter_string)
    return {NAMES[int(r[3:]) - 1] for r in run_ids}


def _every_search(conn, ids, attribute_filter: str) -> dict[str, set[str]]:
    """The names each search finds for `name <op> <pattern>` (runs also by param)."""
    by_id = {v: k for k, v in ids.items()}
    experiments, _ = search_experiment_ids(conn, project_id=PROJECT, filter_string=f"name {attribute_filter}")
    models, _ = search_registered_models(conn, PROJECT, f"name {attribute_filter}", None, None, None)
    versions, _ = search_model_versions(conn, PROJECT, f"name {attribute_filter}", None, None, None)
    logged, _ = logged_model_search.search(conn, PROJECT, list(ids.values()), f"name {attribute_filter}",
                                           None, None, None)
    return {
        "runs": _run_names(conn, ids, f"attributes.run_name {attribute_filter}"),
        "params": _run_names(conn, ids, f"params.p {attribute_filter}"),
        "experiments": {by_id[e] for e in experiments},
        "models": {m.name for m in models},
        "versions": {v.name for v in versions},
        "logged": {m.name for m in logged},
        "ui": {name for name in NAMES if count_runs(
            conn, experiment_ids=[ids[name]], where=parse_filter(f"attributes.run_name {attribute_filter}", RunVocabulary()))},
    }


@pytest.mark.timeout(20)
@pytest.mark.parametrize("op", ["LIKE", "ILIKE"])
def test_many_wildcards_against_a_long_value_answer_at_once(loaded, op):
    db, ids = loaded
    with db.read() as conn:
        found = _every_search(conn, ids, f"{op} '{HOSTILE_PATTERN}'")
    expected = {HOSTILE} if op == "ILIKE" else set()
    assert found == {kind: expected for kind in found}


@pytest.mark.parametrize("pattern, like, ilike", [
    ("Alpha*", {"Alpha*"}, {"Alpha*"}),                      # GLOB's metacharacters are plain here
    ("alpha?", {"alpha?"}, {"alpha?"}),
    ("al[ph]a", {"al[ph]a"}, {"al[ph]a"}),
    ("al_ha", {"al_ha"}, {"al_ha", "ALPHA"}),                # _ is any one character
    ("al%", {"al[ph]a", "al_ha", "alpha?"}, {"al[ph]a", "al_ha", "alpha?", "Alpha*", "ALPHA"}),
    ("%\\%", {"C:\\data"}, {"C:\\data"}),                 # backslash is no escape character
    ("C:\\d%", {"C:\\data"}, {"C:\\data"}),
    ("50%", {"50% off"}, {"50% off"}),
    ("%a%a%a%a%a%B", {HOSTILE}, {HOSTILE}),
])
def test_like_matches_mlflow_semantics_everywhere(loaded, pattern, like, ilike):
    db, ids = loaded
    with db.read() as conn:
        for op, expected in (("LIKE", like), ("ILIKE", ilike)):
            escaped = pattern.replace("'", "\\'")
            found = _every_search(conn, ids, f"{op} '{escaped}'")
            assert found == {kind: expected for kind in found}, (op, pattern)
