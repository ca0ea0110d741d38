"""Units: credential extraction and token kinds, the decision cache, the write/read policy, the gate."""
from __future__ import annotations

import base64
import math
import threading
import time

import pytest
from flask import Flask, request

from mltracker.service.auth.cache import MAX_TTL_S, DecisionCache, token_digest
from mltracker.service.auth.credentials import JOB, USER, credential_of, kind_from_shape
from mltracker.service.auth.policy import READ, WRITE, required_level
from mltracker.service.errors import MlflowError
from mltracker.service.gate.evaluate import (
    FAILED,
    NO_BASELINE,
    NO_CANDIDATES,
    PASSED,
    Candidate,
    evaluate,
    parse_direction,
    parse_max_regression,
    summary,
)

app = Flask(__name__)


def _credential(headers: dict):
    with app.test_request_context("/", headers=headers):
        return credential_of(request)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("headers, token, hint", [
    ({}, None, None),
    ({"Authorization": "Bearer glpat-abc"}, "glpat-abc", USER),
    ({"Authorization": "Bearer glcbt-64_abc"}, "glcbt-64_abc", JOB),
    ({"Authorization": "bearer opaque"}, "opaque", None),
    ({"Authorization": "Bearer "}, None, None),
    ({"Authorization": _basic("alice", "glpat-x")}, "glpat-x", USER),
    ({"Authorization": _basic("gitlab-ci-token", "opaque")}, "opaque", JOB),
    ({"Authorization": _basic("alice", "")}, None, None),
    ({"Authorization": "Basic !!!"}, None, None),
    ({"JOB-TOKEN": "opaque"}, "opaque", JOB),
    ({"PRIVATE-TOKEN": "opaque"}, "opaque", USER),
])
def test_credentials(headers, token, hint):
    credential = _credential(headers)
    if token is None:
        assert credential is None
    else:
        assert (credential.token, credential.hint) == (token, hint)
        assert token not in repr(credential)


def test_token_shapes():
    assert kind_from_shape("glcbt-1_xyz") == JOB
    assert kind_from_shape("glpat-xyz") == USER
    assert kind_from_shape("0123456789abcdef") is None


@pytest.mark.parametrize("method, path, level", [
    ("GET", "/projects/1/api/2.0/mlflow/runs/get", READ),
    ("HEAD", "/projects/1/api/2.0/mlflow-artifacts/artifacts/x", READ),
    ("POST", "/projects/1/api/2.0/mlflow/runs/search", READ),
    ("POST", "/projects/1/ajax-api/2.0/mlflow/experiments/search", READ),
    ("POST", "/projects/1/api/2.0/mlflow/registered-models/search", READ),
    ("POST", "/projects/1/api/2.0/mlflow/model-versions/search", READ),
    ("POST", "/projects/1/api/2.0/mlflow/logged-models/search", READ),
    ("POST", "/projects/1/api/2.0/mlflow/runs/create", WRITE),
    ("POST", "/projects/1/api/2.0/mlflow/runs/search-extra", WRITE),
    ("PUT", "/projects/1/api/2.0/mlflow-artifacts/artifacts/x", WRITE),
    ("DELETE", "/projects/1/api/2.0/mlflow/registered-models/delete", WRITE),
    ("PATCH", "/projects/1/api/2.0/mlflow/registered-models/update", WRITE),
])
def test_required_level(method, path, level):
    assert required_level(method, path) == level


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_cache_expires_and_is_bounded():
    clock = Clock()
    cache = DecisionCache(ttl_s=10, max_entries=2, clock=clock)
    calls = []
    compute = lambda key: cache.get_or_compute(key, lambda: calls.append(key) or key.upper())  # noqa: E731
    assert compute("a") == "A" and compute("a") == "A" and calls == ["a"]
    clock.now = 10.5
    assert compute("a") == "A" and calls == ["a", "a"]
    compute("b"), compute("c")
    assert len(cache) == 2
    compute("a")  # "a" was the least recently used and got evicted by "c"
    assert calls == ["a", "a", "b", "c", "a"]


def test_cache_ttl_is_capped():
    assert DecisionCache(ttl_s=3600).ttl_s == MAX_TTL_S


def test_cache_keeps_denials_but_not_outages():
    cache = DecisionCache(ttl_s=10)
    calls = []

    def deny():
        calls.append("deny")
        raise MlflowError("no", "PERMISSION_DENIED")

    def outage():
        calls.append("outage")
        raise MlflowError("down", "TEMPORARILY_UNAVAILABLE")

    for _ in range(2):
        with pytest.raises(MlflowError):
            cache.get_or_compute("d", deny)
        with pytest.raises(MlflowError):
            cache.get_or_compute("o", outage)
    assert calls == ["deny", "outage", "outage"]


def test_cache_single_flight():
    cache = DecisionCache(ttl_s=10)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "ok"

    threads = [threading.Thread(target=cache.get_or_compute, args=("k", slow)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]


def test_token_digest_is_not_the_token():
    assert token_digest("glpat-secret") != "glpat-secret" and len(token_digest("glpat-secret")) == 64


# ---------------------------------------------------------------- gate decision

def _c(run_id, value, pipeline=1):
    return Candidate(run_id=run_id, run_name=run_id, value=value, pipeline_id=pipeline, job_id=10)


def _evaluate(candidates, baseline, direction="minimize", max_regression=0.0):
    return evaluate(metric="loss", direction=direction, max_regression=max_regression, experiment="e",
                    pipeline_id=1, baseline_ref="main", candidates=candidates, baseline_candidates=baseline)


def test_gate_regression_and_improvement():
    result = _evaluate([_c("a", 0.5), _c("b", 0.4)], [_c("base", 0.3, 0), _c("base2", 0.35, 0)])
    assert result.status == FAILED and not result.passed
    assert result.candidate.run_id == "b" and result.baseline.run_id == "base"
    assert result.regression == pytest.approx(1 / 3)
    assert summary(result).startswith("FAIL: best 'loss' is 33.33% worse than the baseline on 'main'")
    result = _evaluate([_c("a", 0.5)], [_c("base", 0.3)], max_regression=0.7)
    assert result.status == PASSED
    result = _evaluate([_c("a", 0.9)], [_c("base", 0.8)], direction="maximize")
    assert result.status == PASSED and result.regression == pytest.approx(-0.125)
    assert summary(result).startswith("PASS: best 'loss' is 12.50% better")
    result = _evaluate([_c("a", 0.3)], [_c("base", 0.3)])
    assert result.passed and "equals" in summary(result)


def test_gate_edge_cases():
    assert _evaluate([], [_c("base", 1)]).status == NO_CANDIDATES
    assert _evaluate([_c("a", None), _c("b", math.nan)], [_c("base", 1)]).status == NO_CANDIDATES
    result = _evaluate([_c("a", 1.0)], [])
    assert result.status == NO_BASELINE and result.passed and summary(result).startswith("PASS")
    result = _evaluate([_c("a", 0.1)], [_c("base", 0.0)])
    assert result.status == FAILED and math.isinf(result.regression)
    assert _evaluate([_c("a", 0.0)], [_c("base", 0.0)]).passed
    assert result.to_json()["summary"].startswith("FAIL")


@pytest.mark.parametrize("raw, value", [(None, 0.0), ("0", 0.0), ("0.05", 0.05), ("5%", 0.05), (" 2.5% ", 0.025)])
def test_parse_max_regression(raw, value):
    assert parse_max_regression(raw) == pytest.approx(value)


@pytest.mark.parametrize("raw", ["-1", "abc", "nan", "%"])
def test_parse_max_regression_refuses(raw):
    with pytest.raises(MlflowError):
        parse_max_regression(raw)


def test_parse_direction():
    assert parse_direction(None) == "minimize" and parse_direction("MAX") == "maximize"
    with pytest.raises(MlflowError):
        parse_direction("sideways")
