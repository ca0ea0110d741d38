"""Deliveries by `mltracker worker` when the web processes do not run jobs
(MLTRACKER_RUN_JOBS_IN_PROCESS=false), with no bot configured: the queued event waits for the
worker, which decrypts the secret with the same key and signs the delivery."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities.webhook import WebhookAction, WebhookEntity, WebhookEvent

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.conftest import fresh_pg_database, run_mltracker  # noqa: E402
from tests.mlflow_compat.webhook_receiver import Receiver  # noqa: E402

pytestmark = pytest.mark.e2e

ENV = {"MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true", "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http",
       "MLTRACKER_RUN_JOBS_IN_PROCESS": "false"}


@pytest.mark.parametrize("storage", ["sqlite", "postgresql"])
def test_worker_process_delivers(tmp_path, storage):
    store = nullcontext(f"sqlite:///{tmp_path}/mltracker.db") if storage == "sqlite" else fresh_pg_database()
    with store as uri, run_mltracker(tmp_path, uri, str(tmp_path / "artifacts"), extra_env=ENV) as server, \
            Receiver() as receiver:
        client = MlflowClient(server.url)
        path = f"/hook/{uuid.uuid4().hex}"
        client.create_webhook(name="deploy", url=receiver.url + path, secret="worker-secret",
                              events=[WebhookEvent(WebhookEntity.REGISTERED_MODEL, WebhookAction.CREATED)])
        client.create_registered_model("queued-model")
        time.sleep(3)
        assert receiver.at(path) == []  # queued; no web process delivers it

        log = open(tmp_path / "worker.log", "wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "mltracker.service.cli", "worker", "--backend-store-uri", uri],
            cwd=tmp_path, env=server.env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            (delivery,) = receiver.wait_for(path, 1)
        finally:
            worker.terminate()
            worker.wait(timeout=15)
            log.close()
        assert delivery.signature_valid("worker-secret")
        assert delivery.payload["data"]["name"] == "queued-model"
