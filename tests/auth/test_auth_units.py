"""Units: credential extraction and token kinds, the decision cache, the write/read policy, the gate."""
from __future__ import annotations

import base64
import threading
import time

import pytest
from flask import Flask, request

from mltracker.service.auth.cache import MAX_TTL_S, DecisionCache, token_digest
from mltracker.service.auth.credentials import JOB, USER, credential_of, kind_from_shape
from mltracker.service.auth.policy import MAINTAINER, READ, WRITE, required_level
from mltracker.service.errors import MlflowError

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
    ("POST", "/projects/1/ajax-api/2.0/mlflow/experiments/search-datasets", READ),
    ("POST", "/projects/1/ajax-api/2.0/mlflow/experiments/search", READ),
    ("POST", "/projects/1/api/2.0/mlflow/registered-models/search", READ),
    ("POST", "/projects/1/api/2.0/mlflow/model-versions/search", READ),
    ("POST", "/projects/1/api/2.0/mlflow/logged-models/search", READ),
    ("POST", "/projects/1/api/3.0/mlflow/datasets/search", READ),
    ("POST", "/projects/1/api/3.0/mlflow/datasets/create", WRITE),
    ("POST", "/projects/1/api/2.0/mlflow/runs/create", WRITE),
    ("POST", "/projects/1/api/2.0/mlflow/runs/search-extra", WRITE),
    ("PUT", "/projects/1/api/2.0/mlflow-artifacts/artifacts/x", WRITE),
    ("DELETE", "/projects/1/api/2.0/mlflow/registered-models/delete", WRITE),
    ("PATCH", "/projects/1/api/2.0/mlflow/registered-models/update", WRITE),
    ("GET", "/projects/1/api/3.0/mlflow/gateway/secrets/list", MAINTAINER),
    ("POST", "/projects/1/ajax-api/3.0/mlflow/gateway/secrets/create", MAINTAINER),
    ("GET", "/projects/1/ajax-api/3.0/mlflow/gateway/secrets/config", READ),
    ("GET", "/projects/1/api/3.0/mlflow/gateway/model-definitions/list", READ),
    ("POST", "/projects/1/api/3.0/mlflow/gateway/endpoints/create", WRITE),
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
