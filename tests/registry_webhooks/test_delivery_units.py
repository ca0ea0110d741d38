"""The delivery's parts against MLflow's own code and a real database: the signature MLflow
computes, secrets sealed at rest, events queued only with the change that caused them, and
connections to private addresses refused once connected (DNS rebinding)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.mlflow_compat.webhook_receiver import Receiver  # noqa: E402

from mltracker.service.db.jobs_schema import jobs  # noqa: E402
from mltracker.service.jobs.worker import run_one  # noqa: E402
from mltracker.service.registry import registered_models as rms  # noqa: E402
from mltracker.service.registry_webhooks import sending, store  # noqa: E402
from mltracker.service.registry_webhooks.delivery import DeliveryConfig, job_handler  # noqa: E402
from mltracker.service.registry_webhooks.emit import JOB_KIND  # noqa: E402
from mltracker.service.registry_webhooks.events import REGISTERED_MODEL_CREATED  # noqa: E402
from mltracker.service.registry_webhooks.secrets import SecretBox, SecretUnreadable  # noqa: E402
from mltracker.service.registry_webhooks.validation import UrlRules  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

LOCAL = UrlRules(("http", "https"), allow_private_ips=True)


def test_signature_and_body_are_mlflows():
    from mlflow.webhooks.delivery import _generate_hmac_signature

    body = sending.body_of("model_version_alias.created", "2026-01-01T00:00:00+00:00",
                           {"name": "m", "alias": "champion", "version": "1"})
    assert body == ('{"entity": "model_version_alias", "action": "created", "timestamp": '
                    '"2026-01-01T00:00:00+00:00", "data": {"name": "m", "alias": "champion", "version": "1"}}')
    for secret in ("s", "sécret ✓", "x" * 300):
        assert sending.signature(secret, "d-1", "1767225600", body) == _generate_hmac_signature(
            secret, "d-1", "1767225600", body)


def test_secret_box():
    box = SecretBox("key one")
    sealed = box.seal("my-secret")
    assert "my-secret" not in sealed and box.open(sealed) == "my-secret"
    assert box.seal("my-secret") != sealed  # a fresh IV each time
    with pytest.raises(SecretUnreadable):
        SecretBox("key two").open(sealed)


def test_each_kind_of_secret_has_a_key_of_its_own():
    """Gateway secrets and webhook secrets come from one configured key but cannot open each other."""
    gateway = SecretBox("shared", purpose=b"mltracker gateway secrets")
    sealed = gateway.seal('{"api_key": "sk-1"}')
    assert gateway.open(sealed) == '{"api_key": "sk-1"}'
    with pytest.raises(SecretUnreadable):
        SecretBox("shared").open(sealed)


def test_private_peer_is_refused_after_connecting():
    with Receiver() as receiver:
        with pytest.raises(sending.NonPublicPeer):
            sending.post(sending.session(allow_private_ips=False), receiver.url + "/x", event="prompt.created",
                         data={}, timestamp="t", delivery_id="d", secret=None, timeout=5)
        assert receiver.at("/x") == []
        sent = sending.post(sending.session(allow_private_ips=True), receiver.url + "/x", event="prompt.created",
                            data={}, timestamp="t", delivery_id="d", secret=None, timeout=5)
        assert sent.status == 200 and len(receiver.at("/x")) == 1


def _jobs(database) -> int:
    with database.read() as conn:
        return conn.execute(select(func.count()).select_from(jobs).where(jobs.c.kind == JOB_KIND)).scalar()


def test_events_are_queued_with_the_change_and_delivered(database):
    project = 424242
    box = SecretBox("k")
    with Receiver() as receiver:
        with database.write() as conn:
            store.create(conn, box, LOCAL, project, name="hook", url=receiver.url + "/unit",
                         events=[REGISTERED_MODEL_CREATED], secret="s")
        before = _jobs(database)

        class Abort(Exception):
            pass

        with pytest.raises(Abort):
            with database.write() as conn:
                rms.create(conn, project, "rolled-back")
                raise Abort()
        assert _jobs(database) == before  # the change did not happen: nothing to announce

        with database.write() as conn:
            rms.create(conn, project, "kept")
        assert _jobs(database) == before + 1

        receiver.answer("/unit", 503)
        handlers = {JOB_KIND: job_handler(database, DeliveryConfig(box, LOCAL, 5.0))}
        assert run_one(database, handlers, base_backoff_ms=0)
        assert run_one(database, handlers, base_backoff_ms=0)  # retried after the 503
        attempts = receiver.at("/unit")
        assert len(attempts) == 2 and all(a.signature_valid("s") for a in attempts)
        assert attempts[1].payload["data"] == {"name": "kept", "tags": {}, "description": ""}
        assert not run_one(database, handlers, base_backoff_ms=0)


def test_other_job_kinds_are_left_to_their_workers(database):
    from mltracker.service.jobs import queue

    queue.enqueue(database, project_id=1, kind="someone-elses", payload={}, dedupe_key="unit-other-kind")
    assert not run_one(database, {JOB_KIND: lambda job: None})
    assert queue.claim(database, kinds=["someone-elses"]) is not None
