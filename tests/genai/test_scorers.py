"""Registered scorers through the stock client (`Scorer.register`, `list_scorers`, `get_scorer`,
`delete_scorer`) against a live mltracker on SQLite and PostgreSQL. Builtin (judge) scorers are
also checked side by side with `mlflow server`; decorator scorers only on mltracker, since
`mlflow server` refuses them unless its operator opts in (it may run them; mltracker never does)."""
from __future__ import annotations

import uuid

import pytest
from mlflow.exceptions import MlflowException

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e


def _experiment(server) -> str:
    from mlflow import MlflowClient

    return MlflowClient(server.url).create_experiment(f"scorers-{uuid.uuid4().hex[:8]}")


def test_builtin_scorer_versions_round_trip(side_by_side):
    from mlflow.genai.scorers import Guidelines, delete_scorer, get_scorer, list_scorers

    with tracking_uri_env(side_by_side.url):
        experiment_id = _experiment(side_by_side)
        Guidelines(name="polite", guidelines="Be polite.").register(experiment_id=experiment_id)
        Guidelines(name="polite", guidelines="Be polite and brief.").register(experiment_id=experiment_id)
        Guidelines(name="cites", guidelines="Cite a source.").register(experiment_id=experiment_id)

        latest = {s.name: s for s in list_scorers(experiment_id=experiment_id)}
        assert sorted(latest) == ["cites", "polite"]
        assert latest["polite"].guidelines == "Be polite and brief."
        assert get_scorer(name="polite", experiment_id=experiment_id, version=1).guidelines == "Be polite."
        assert get_scorer(name="polite", experiment_id=experiment_id).guidelines == "Be polite and brief."

        delete_scorer(name="polite", experiment_id=experiment_id, version=2)
        assert get_scorer(name="polite", experiment_id=experiment_id).guidelines == "Be polite."
        delete_scorer(name="polite", experiment_id=experiment_id, version="all")
        assert [s.name for s in list_scorers(experiment_id=experiment_id)] == ["cites"]
        with pytest.raises(MlflowException, match="not found") as missing:
            get_scorer(name="polite", experiment_id=experiment_id)
        assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        with pytest.raises(MlflowException, match="version 7 not found"):
            get_scorer(name="cites", experiment_id=experiment_id, version=7)


def exact_answer(outputs, expectations) -> bool:
    return outputs == expectations["expected_response"]


def test_decorator_scorer_registers_and_comes_back_runnable(mltracker, monkeypatch):
    from mlflow.genai.scorers import get_scorer, list_scorers, scorer

    # The client itself refuses to rebuild a decorator scorer (it runs its source) without this.
    monkeypatch.setenv("MLFLOW_SERVER_ENABLE_CUSTOM_SCORERS", "true")
    with tracking_uri_env(mltracker.url):
        experiment_id = _experiment(mltracker)
        registered = scorer(exact_answer).register(experiment_id=experiment_id)
        assert registered.name == "exact_answer"
        again = scorer(exact_answer).register(name="exact_answer", experiment_id=experiment_id)
        assert again.name == "exact_answer"
        assert [s.name for s in list_scorers(experiment_id=experiment_id)] == ["exact_answer"]
        fetched = get_scorer(name="exact_answer", experiment_id=experiment_id)
        assert fetched(outputs="4", expectations={"expected_response": "4"}) is True
        assert fetched(outputs="5", expectations={"expected_response": "4"}) is False


def test_scorer_requests_are_checked(mltracker):
    import requests

    experiment_id = _experiment(mltracker)
    api = f"{mltracker.url}/api/3.0/mlflow/scorers"
    bad_json = requests.post(f"{api}/register", json={"experiment_id": experiment_id, "name": "x",
                                                      "serialized_scorer": "{not json"}, timeout=30)
    assert bad_json.status_code == 400 and bad_json.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    no_name = requests.post(f"{api}/register", json={"experiment_id": experiment_id, "serialized_scorer": "{}"},
                            timeout=30)
    assert no_name.status_code == 400 and "name" in no_name.json()["message"]
    unknown = requests.get(f"{api}/list", params={"experiment_id": "987654321"}, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
