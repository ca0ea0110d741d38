"""/health stays a liveness check; /ready (and /health?deep=1) check the database and the artifact
store. A database that stops answering fails requests within the configured timeouts."""
from __future__ import annotations

import shutil

import pytest
import requests
from sqlalchemy.engine import make_url

from tests.conftest import fresh_pg_database, run_mltracker
from tests.hardening.tcp_proxy import FreezableProxy

pytestmark = pytest.mark.e2e
TIMEOUTS = {"MLTRACKER_DB_CONNECT_TIMEOUT": "1", "MLTRACKER_DB_STATEMENT_TIMEOUT": "2"}


def test_ready_on_both_stores(live_server):
    for path in ("/ready", "/health?deep=1"):
        response = requests.get(live_server.url + path, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok", "database": "ok", "artifacts": "ok"}
    assert requests.get(live_server.url + "/health", timeout=30).text == "OK"


@pytest.mark.timeout(120)
def test_a_hung_database_is_reported_and_fails_requests_quickly(tmp_path):
    with fresh_pg_database() as pg_url:
        parsed = make_url(pg_url)
        with FreezableProxy((parsed.host, parsed.port or 5432)) as proxy:
            proxied = parsed.set(port=proxy.port).render_as_string(hide_password=False)
            with run_mltracker(tmp_path, proxied, str(tmp_path / "artifacts"), extra_env=TIMEOUTS) as server:
                assert requests.get(server.url + "/ready", timeout=30).status_code == 200
                proxy.frozen.set()
                ready = requests.get(server.url + "/health?deep=1", timeout=30)
                assert ready.status_code == 503
                assert ready.json() == {"status": "unavailable", "database": "unavailable", "artifacts": "ok"}
                assert requests.get(server.url + "/health", timeout=30).text == "OK"
                search = requests.post(server.url + "/api/2.0/mlflow/experiments/search",
                                       json={"max_results": 10}, timeout=30)
                assert search.status_code == 503, search.text
                assert search.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
                proxy.frozen.clear()
                assert requests.get(server.url + "/ready", timeout=30).status_code == 200


def test_a_missing_artifact_folder_is_reported(tmp_path):
    artifacts = tmp_path / "artifacts"
    with run_mltracker(tmp_path, f"sqlite:///{tmp_path}/m.db", str(artifacts)) as server:
        assert requests.get(server.url + "/ready", timeout=30).status_code == 200
        shutil.rmtree(artifacts)
        ready = requests.get(server.url + "/ready", timeout=30)
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "database": "ok", "artifacts": "unavailable"}
