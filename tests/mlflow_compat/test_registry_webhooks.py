"""MLflow's registry webhooks through the stock client: CRUD and validation side by side with
`mlflow server` 3.17, and deliveries to a real HTTP receiver that checks each signature and
payload — on `mlflow server` and on mltracker (SQLite + local folder, PostgreSQL + S3) alike."""
from __future__ import annotations

import json
import re
import time
import uuid

import pytest
import requests
from cryptography.fernet import Fernet
from mlflow import MlflowClient
from mlflow.entities.webhook import WebhookAction, WebhookEntity, WebhookEvent, WebhookStatus
from mlflow.exceptions import MlflowException
from sqlalchemy import create_engine, text

from tests.conftest import S3_ENV, fresh_pg_database, run_mltracker
from tests.e2e.helpers import start_mlflow_server, tracking_uri_env
from tests.mlflow_compat.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e

API = "/api/2.0/mlflow/webhooks"
HINT = " See the API docs for more information about request parameters."
# A public address that is never contacted (only resolved) by the CRUD tests' webhooks.
PUBLIC = "https://1.1.1.1"
# Deliveries to a receiver on this host: both servers must be allowed private addresses and http.
RECEIVER_ENV = {"MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true", "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https"}

MV_CREATED = WebhookEvent(WebhookEntity.MODEL_VERSION, WebhookAction.CREATED)
RM_CREATED = WebhookEvent(WebhookEntity.REGISTERED_MODEL, WebhookAction.CREATED)
ALIAS_CREATED = WebhookEvent(WebhookEntity.MODEL_VERSION_ALIAS, WebhookAction.CREATED)
MODEL_EVENTS = [
    RM_CREATED, MV_CREATED,
    WebhookEvent(WebhookEntity.MODEL_VERSION_TAG, WebhookAction.SET),
    WebhookEvent(WebhookEntity.MODEL_VERSION_TAG, WebhookAction.DELETED),
    ALIAS_CREATED,
    WebhookEvent(WebhookEntity.MODEL_VERSION_ALIAS, WebhookAction.DELETED),
]


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- servers that may call the receiver

@pytest.fixture(scope="module")
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture(scope="module")
def mlflow_hooks_server(tmp_path_factory):
    # MLflow caches which webhooks listen to an event for 60 s; the tests create webhooks as they go.
    env = {**RECEIVER_ENV, "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
           "MLFLOW_WEBHOOK_CACHE_TTL": "0"}
    with start_mlflow_server(tmp_path_factory.mktemp("mlflow-hooks"), extra_env=env) as server:
        yield server


@pytest.fixture(scope="module")
def mltracker_hooks_sqlite(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hooks-sqlite")
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts"), extra_env=RECEIVER_ENV) as server:
        yield server


@pytest.fixture(scope="module")
def mltracker_hooks_postgres(tmp_path_factory, s3_server):
    """Its own database: servers sharing one would deliver each other's queued events."""
    tmp = tmp_path_factory.mktemp("hooks-postgres")
    env = {**S3_ENV, **RECEIVER_ENV, "MLFLOW_S3_ENDPOINT_URL": s3_server.endpoint}
    with fresh_pg_database() as url, run_mltracker(tmp, url, f"s3://{s3_server.bucket}/hooks", extra_env=env) as server:
        yield server


@pytest.fixture(params=["mlflow-server", "sqlite-local", "postgres-s3"])
def hooks_server(request):
    if request.param == "mlflow-server":
        return request.getfixturevalue("mlflow_hooks_server")
    return request.getfixturevalue("mltracker_hooks_" + request.param.split("-")[0])


@pytest.fixture(params=["sqlite-local", "postgres-s3"])
def mltracker_hooks(request):
    return request.getfixturevalue("mltracker_hooks_" + request.param.split("-")[0])


@pytest.fixture
def hooks_client(hooks_server):
    with tracking_uri_env(hooks_server.url):
        yield MlflowClient(hooks_server.url)


@pytest.fixture
def mltracker_client(mltracker_hooks):
    with tracking_uri_env(mltracker_hooks.url):
        yield MlflowClient(mltracker_hooks.url)


# ---------------------------------------------------------------- CRUD (default settings, side by side)

def test_create_get_list_update_delete(any_client):
    plain = any_client.create_webhook(name="plain", url=f"{PUBLIC}/plain", events=[MV_CREATED])
    assert (plain.name, plain.url, plain.events, plain.status) == ("plain", f"{PUBLIC}/plain", [MV_CREATED],
                                                                 WebhookStatus.ACTIVE)
    assert plain.secret is None and plain.description is None
    assert plain.creation_timestamp == plain.last_updated_timestamp > 0

    signed = any_client.create_webhook(name="signed", url=f"{PUBLIC}/signed", events=[ALIAS_CREATED, MV_CREATED],
                                       secret="my_secret", description="two events", status=WebhookStatus.DISABLED)
    assert signed.secret is None  # never sent back
    # Listed by entity and action, as MLflow lists them.
    assert signed.events == [MV_CREATED, ALIAS_CREATED] and signed.status == WebhookStatus.DISABLED

    fetched = any_client.get_webhook(signed.webhook_id)
    assert (fetched.name, fetched.description, fetched.events) == ("signed", "two events", [MV_CREATED, ALIAS_CREATED])

    updated = any_client.update_webhook(
        signed.webhook_id, name="renamed", url=f"{PUBLIC}/renamed", events=[RM_CREATED],
        description="changed", secret="new_secret", status=WebhookStatus.ACTIVE,
    )
    assert (updated.webhook_id, updated.name, updated.url, updated.events, updated.description, updated.status) == (
        signed.webhook_id, "renamed", f"{PUBLIC}/renamed", [RM_CREATED], "changed", WebhookStatus.ACTIVE)
    assert updated.last_updated_timestamp > signed.last_updated_timestamp

    partial = any_client.update_webhook(signed.webhook_id, name="only-the-name")
    assert (partial.name, partial.url, partial.events, partial.description) == (
        "only-the-name", f"{PUBLIC}/renamed", [RM_CREATED], "changed")

    any_client.delete_webhook(plain.webhook_id)
    with pytest.raises(MlflowException, match=f"Webhook with ID {plain.webhook_id} not found"):
        any_client.get_webhook(plain.webhook_id)
    listed = {w.webhook_id for w in any_client.list_webhooks(max_results=1000)}
    assert signed.webhook_id in listed and plain.webhook_id not in listed


def test_list_pages(any_client):
    created = [any_client.create_webhook(name=f"page{i}", url=f"{PUBLIC}/{i}", events=[MV_CREATED]).webhook_id
               for i in range(5)]
    seen: list[str] = []
    page = any_client.list_webhooks(max_results=2)
    while True:
        assert len(page) <= 2
        seen.extend(w.webhook_id for w in page)
        if not page.token:
            break
        page = any_client.list_webhooks(max_results=2, page_token=page.token)
    assert len(seen) == len(set(seen))
    # Newest first, as MLflow lists them.
    assert [i for i in seen if i in created] == list(reversed(created))


@pytest.mark.parametrize("call", ["get", "update", "delete", "test"])
def test_unknown_webhook(any_client, call):
    action = {
        "get": lambda: any_client.get_webhook("nonexistent"),
        "update": lambda: any_client.update_webhook(webhook_id="nonexistent", name="x"),
        "delete": lambda: any_client.delete_webhook("nonexistent"),
        "test": lambda: any_client.test_webhook("nonexistent"),
    }[call]
    with pytest.raises(MlflowException, match="Webhook with ID nonexistent not found.") as caught:
        action()
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


EVENT = [{"entity": "MODEL_VERSION", "action": "CREATED"}]
CREATE_CASES = [
    ({}, f"Missing value for required parameter 'name'.{HINT}"),
    ({"name": "a"}, f"Missing value for required parameter 'url'.{HINT}"),
    ({"name": "a", "url": f"{PUBLIC}/x"}, f"Missing value for required parameter 'events'.{HINT}"),
    ({"name": "a", "url": f"{PUBLIC}/x", "events": []},
     "Webhook events must be a non-empty list of WebhookEvent objects: []."),
    ({"name": 5, "url": f"{PUBLIC}/x", "events": EVENT},
     f"Invalid value 5 for parameter 'name' supplied:  Hint: Value was of type 'int'.{HINT}"),
    ({"name": "a", "url": f"{PUBLIC}/x", "events": "x"},
     f"Invalid value \"x\" for parameter 'events' supplied:  Hint: Value was of type 'str'.{HINT}"),
    ({"name": "a", "url": f"{PUBLIC}/x", "events": EVENT, "secret": 5},
     f"Invalid value 5 for parameter 'secret' supplied:  Hint: Value was of type 'int'.{HINT}"),
    *[({"name": bad, "url": f"{PUBLIC}/x", "events": EVENT},
       f"Webhook name {bad!r} is invalid. It must start and end with a letter or digit, be less than 63 characters "
       "long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-).")
      for bad in ("a b", "-a", "a" * 64)],
    ({"name": "a", "url": "http://1.1.1.1/x", "events": EVENT},
     "Invalid webhook URL scheme: 'http'. Allowed schemes are: https."),
    ({"name": "a", "url": "ftp://1.1.1.1/x", "events": EVENT},
     "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: https."),
    ({"name": "a", "url": "   ", "events": EVENT}, "Webhook URL cannot be empty or just whitespace: '   '"),
    ({"name": "a", "url": "https://[invalid", "events": EVENT},
     "Invalid webhook URL 'https://[invalid': ValueError('Invalid IPv6 URL')"),
    ({"name": "a", "url": "https:///x", "events": EVENT}, "Webhook URL must include a hostname: 'https:///x'"),
    *[({"name": "a", "url": f"https://{ip}/x", "events": EVENT},
       f"Webhook URL must not resolve to a non-public IP address. '{ip}' resolves to {ip}.")
      for ip in ("127.0.0.1", "10.0.0.1", "169.254.169.254")],
    ({"name": "a", "url": f"{PUBLIC}/x", "events": [{"entity": "MODEL_VERSION", "action": "DELETED"}]},
     "Invalid action 'deleted' for entity 'model_version'. Valid actions are: ['created']"),
    ({"name": "a", "url": f"{PUBLIC}/x", "events": [{"entity": "MODEL_VERSION_ALIAS", "action": "SET"}]},
     "Invalid action 'set' for entity 'model_version_alias'. Valid actions are: ['created', 'deleted']"),
]


@pytest.mark.parametrize("payload,message", CREATE_CASES)
def test_create_validation(side_by_side, payload, message):
    response = requests.post(side_by_side.url + API, data=json.dumps(payload),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert response.json()["message"] == message


@pytest.mark.parametrize("params,message", [
    ({"max_results": 1001}, "max_results must be between 1 and 1000."),
    ({"max_results": "abc"}, f"Invalid value \"abc\" for parameter 'max_results' supplied:  Hint: Value was of type 'str'.{HINT}"),
    ({"page_token": "abc"}, "Invalid page token, could not base64-decode"),
])
def test_list_validation(side_by_side, params, message):
    response = requests.get(side_by_side.url + API, params=params, timeout=30)
    assert response.status_code == 400
    assert response.json()["message"] == message


@pytest.mark.parametrize("url,message", [
    ("   ", "Webhook URL cannot be empty or just whitespace"),
    ("ftp://example.com", "Invalid webhook URL scheme"),
    ("http://[invalid", "Invalid webhook URL"),
])
def test_update_refuses_invalid_urls(any_client, url, message):
    webhook = any_client.create_webhook(name="valid", url=f"{PUBLIC}/valid", events=[MV_CREATED])
    with pytest.raises(MlflowException, match=re.escape(message)):
        any_client.update_webhook(webhook_id=webhook.webhook_id, url=url)
    assert any_client.get_webhook(webhook.webhook_id).url == f"{PUBLIC}/valid"


# ---------------------------------------------------------------- deliveries to a real receiver

def _hook(receiver, client, events, secret: str | None = None, status=None):
    path = f"/hook/{uuid.uuid4().hex}"
    webhook = client.create_webhook(name=_unique("hook"), url=receiver.url + path, events=events, secret=secret,
                                    **({"status": status} if status else {}))
    return webhook, path


def _by_event(received) -> dict:
    return {(r.payload["entity"], r.payload["action"]): r for r in received}


def _check_delivery(delivery, secret: str) -> None:
    assert delivery.headers["content-type"] == "application/json"
    assert abs(int(delivery.headers["x-mlflow-timestamp"]) - time.time()) < 600
    uuid.UUID(delivery.headers["x-mlflow-delivery-id"])
    assert delivery.signature_valid(secret), delivery.headers
    assert not delivery.signature_valid(secret + "x")
    assert set(delivery.payload) == {"entity", "action", "timestamp", "data"}


def test_each_model_event_is_delivered_signed(receiver, hooks_client):
    client = hooks_client
    secret = _unique("secret")
    _, path = _hook(receiver, client, MODEL_EVENTS, secret=secret)
    name = _unique("model")
    client.create_registered_model(name, tags={"team": "ml"}, description="churn model")
    run = client.create_run(client.create_experiment(_unique("exp")))
    version = client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id,
                                          tags={"stage": "candidate"}, description="first")
    client.set_model_version_tag(name, "1", "quality", "good")
    client.delete_model_version_tag(name, "1", "quality")
    client.set_registered_model_alias(name, "champion", "1")
    client.delete_registered_model_alias(name, "champion")

    received = receiver.wait_for(path, 6)
    assert len(received) == 6 and len({r.headers["x-mlflow-delivery-id"] for r in received}) == 6
    for delivery in received:
        _check_delivery(delivery, secret)
    data = {event: r.payload["data"] for event, r in _by_event(received).items()}
    assert data == {
        ("registered_model", "created"): {"name": name, "tags": {"team": "ml"}, "description": "churn model"},
        ("model_version", "created"): {"name": name, "version": "1", "source": version.source,
                                       "run_id": run.info.run_id, "tags": {"stage": "candidate"},
                                       "description": "first"},
        ("model_version_tag", "set"): {"name": name, "version": "1", "key": "quality", "value": "good"},
        ("model_version_tag", "deleted"): {"name": name, "version": "1", "key": "quality"},
        ("model_version_alias", "created"): {"name": name, "alias": "champion", "version": "1"},
        ("model_version_alias", "deleted"): {"name": name, "alias": "champion"},
    }


def test_without_a_secret_nothing_is_signed(receiver, hooks_client):
    _, path = _hook(receiver, hooks_client, [RM_CREATED])
    hooks_client.create_registered_model(_unique("model"))
    (delivery,) = receiver.wait_for(path, 1)
    assert "x-mlflow-signature" not in delivery.headers
    assert delivery.payload["data"]["description"] == ""


PROMPT_TAG = {"key": "mlflow.prompt.is_prompt", "value": "true"}


def _rest(server, method: str, path: str, body: dict) -> dict:
    """The REST call a prompt registry client makes (MlflowClient refuses prompt tags on models)."""
    response = requests.request(method, f"{server.url}/api/2.0/mlflow/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_prompt_events(receiver, hooks_server, hooks_client):
    """A registered model tagged `mlflow.prompt.is_prompt` is a prompt: its creation and tags are
    announced as prompt events (and nothing as registered_model.created)."""
    events = [WebhookEvent(WebhookEntity.PROMPT, WebhookAction.CREATED),
              WebhookEvent(WebhookEntity.PROMPT_TAG, WebhookAction.SET),
              WebhookEvent(WebhookEntity.PROMPT_TAG, WebhookAction.DELETED), RM_CREATED]
    secret = _unique("secret")
    _, path = _hook(receiver, hooks_client, events, secret=secret)
    name = _unique("prompt")
    _rest(hooks_server, "POST", "registered-models/create", {
        "name": name, "tags": [PROMPT_TAG, {"key": "lang", "value": "en"}], "description": "greeting"})
    _rest(hooks_server, "POST", "registered-models/set-tag", {"name": name, "key": "owner", "value": "nlp"})
    _rest(hooks_server, "DELETE", "registered-models/delete-tag", {"name": name, "key": "owner"})
    received = receiver.wait_for(path, 3)
    for delivery in received:
        _check_delivery(delivery, secret)
    assert {event: r.payload["data"] for event, r in _by_event(received).items()} == {
        ("prompt", "created"): {"name": name, "tags": {"lang": "en"}, "description": "greeting"},
        ("prompt_tag", "set"): {"name": name, "key": "owner", "value": "nlp"},
        ("prompt_tag", "deleted"): {"name": name, "key": "owner"},
    }


def test_prompt_version_events(receiver, mltracker_hooks, mltracker_client):
    """Versions and aliases of a prompt (mltracker: the version's source is a run's artifacts)."""
    events = [WebhookEvent(WebhookEntity.PROMPT_VERSION, WebhookAction.CREATED),
              WebhookEvent(WebhookEntity.PROMPT_VERSION_TAG, WebhookAction.SET),
              WebhookEvent(WebhookEntity.PROMPT_ALIAS, WebhookAction.CREATED),
              WebhookEvent(WebhookEntity.PROMPT_ALIAS, WebhookAction.DELETED), MV_CREATED, ALIAS_CREATED]
    _, path = _hook(receiver, mltracker_client, events)
    name = _unique("prompt")
    _rest(mltracker_hooks, "POST", "registered-models/create", {"name": name, "tags": [PROMPT_TAG]})
    run = mltracker_client.create_run(mltracker_client.create_experiment(_unique("exp")))
    _rest(mltracker_hooks, "POST", "model-versions/create", {
        "name": name, "source": f"{run.info.artifact_uri}/prompt", "run_id": run.info.run_id,
        "tags": [PROMPT_TAG, {"key": "mlflow.prompt.text", "value": "Hello {{name}}!"},
                 {"key": "lang", "value": "en"}]})
    _rest(mltracker_hooks, "POST", "model-versions/set-tag",
          {"name": name, "version": "1", "key": "reviewed", "value": "yes"})
    _rest(mltracker_hooks, "POST", "registered-models/alias", {"name": name, "alias": "production", "version": "1"})
    _rest(mltracker_hooks, "DELETE", "registered-models/alias", {"name": name, "alias": "production"})
    received = receiver.wait_for(path, 4)
    assert {event: r.payload["data"] for event, r in _by_event(received).items()} == {
        ("prompt_version", "created"): {"name": name, "version": "1", "template": "Hello {{name}}!",
                                        "tags": {"lang": "en"}, "description": None},
        ("prompt_version_tag", "set"): {"name": name, "version": "1", "key": "reviewed", "value": "yes"},
        ("prompt_alias", "created"): {"name": name, "alias": "production", "version": "1"},
        ("prompt_alias", "deleted"): {"name": name, "alias": "production"},
    }


def test_a_receiver_error_is_retried(receiver, hooks_client):
    secret = _unique("secret")
    _, path = _hook(receiver, hooks_client, [RM_CREATED], secret=secret)
    receiver.answer(path, 500, 503)
    name = _unique("model")
    hooks_client.create_registered_model(name)
    attempts = receiver.wait_for(path, 3)
    assert len({a.headers["x-mlflow-delivery-id"] for a in attempts}) == 1  # one delivery, tried again
    for attempt in attempts:
        _check_delivery(attempt, secret)
        assert attempt.payload["data"]["name"] == name
    time.sleep(2)
    assert len(receiver.at(path)) == 3  # answered 200 the third time: not sent again


def test_a_refusal_is_not_retried(receiver, hooks_client):
    _, path = _hook(receiver, hooks_client, [RM_CREATED])
    receiver.answer(path, 400)
    _, witness = _hook(receiver, hooks_client, [RM_CREATED])
    hooks_client.create_registered_model(_unique("model"))
    receiver.wait_for(witness, 1)
    time.sleep(3)
    assert len(receiver.at(path)) == 1


def test_disabled_and_deleted_webhooks_receive_nothing(receiver, hooks_client):
    _, disabled = _hook(receiver, hooks_client, [RM_CREATED], status=WebhookStatus.DISABLED)
    deleted, deleted_path = _hook(receiver, hooks_client, [RM_CREATED])
    hooks_client.delete_webhook(deleted.webhook_id)
    _, other_event = _hook(receiver, hooks_client, [MV_CREATED])
    _, active = _hook(receiver, hooks_client, [RM_CREATED])
    hooks_client.create_registered_model(_unique("model"))
    receiver.wait_for(active, 1)
    time.sleep(2)
    assert receiver.at(disabled) == receiver.at(deleted_path) == receiver.at(other_event) == []


def test_the_test_endpoint(receiver, hooks_client):
    secret = _unique("secret")
    webhook, path = _hook(receiver, hooks_client, [ALIAS_CREATED, RM_CREATED], secret=secret)
    result = hooks_client.test_webhook(webhook.webhook_id)
    assert (result.success, result.response_status, result.error_message) == (True, 200, None)
    assert json.loads(result.response_body) == {"received": path, "status": 200}
    (first,) = receiver.at(path)  # sent before the answer, not queued
    _check_delivery(first, secret)
    # The webhook's first event (events are listed by entity and action).
    assert (first.payload["entity"], first.payload["action"]) == ("model_version_alias", "created")
    assert first.payload["data"] == {"name": "example_model", "alias": "example_alias", "version": "1"}

    result = hooks_client.test_webhook(webhook.webhook_id, event=MV_CREATED)
    assert result.success
    second = receiver.at(path)[1]
    _check_delivery(second, secret)
    assert second.payload["data"] == {"name": "example_model", "version": "1", "source": "models:/123",
                                      "run_id": "abcd1234abcd5678", "tags": {"example_key": "example_value"},
                                      "description": "An example model version"}

    receiver.answer(path, 404)
    result = hooks_client.test_webhook(webhook.webhook_id)
    assert (result.success, result.response_status) == (False, 404)


# ---------------------------------------------------------------- mltracker's own: projects, promote, storage

def test_webhooks_belong_to_their_project(receiver, mltracker_hooks):
    project_url = f"{mltracker_hooks.url}/projects/{uuid.uuid4().int % 10**6 + 1000}"
    project = MlflowClient(project_url)
    root = MlflowClient(mltracker_hooks.url)
    webhook, path = _hook(receiver, project, [RM_CREATED])
    assert webhook.webhook_id not in {w.webhook_id for w in root.list_webhooks(max_results=1000)}
    with pytest.raises(MlflowException, match="not found"):
        root.get_webhook(webhook.webhook_id)
    with pytest.raises(MlflowException, match="not found"):
        root.delete_webhook(webhook.webhook_id)
    _, root_path = _hook(receiver, root, [RM_CREATED])
    root.create_registered_model(_unique("root-model"))
    receiver.wait_for(root_path, 1)
    name = _unique("project-model")
    project.create_registered_model(name)
    (delivery,) = receiver.wait_for(path, 1)
    assert delivery.payload["data"]["name"] == name


def test_promote_fires_alias_created(receiver, mltracker_hooks, tmp_path):
    client = MlflowClient(mltracker_hooks.url)
    secret = _unique("secret")
    _, path = _hook(receiver, client, [RM_CREATED, MV_CREATED, ALIAS_CREATED], secret=secret)
    run = client.create_run(client.create_experiment(_unique("exp")))
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n")
    with tracking_uri_env(mltracker_hooks.url):
        client.log_artifacts(run.info.run_id, str(model_dir), "model")
    client.set_terminated(run.info.run_id)

    browser = requests.Session()
    page = browser.get(f"{mltracker_hooks.url}/candidates/{run.info.run_id}", timeout=30)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    name = _unique("deployed")
    done = browser.post(f"{mltracker_hooks.url}/candidates/{run.info.run_id}/promote", timeout=30,
                        data={"csrf_token": csrf, "model": name, "alias": "champion"}, allow_redirects=False)
    assert done.status_code == 302, done.text

    received = _by_event(receiver.wait_for(path, 3))
    for delivery in received.values():
        _check_delivery(delivery, secret)
    assert received[("model_version_alias", "created")].payload["data"] == {
        "name": name, "alias": "champion", "version": "1"}
    assert received[("registered_model", "created")].payload["data"]["name"] == name
    created = received[("model_version", "created")].payload["data"]
    assert (created["name"], created["version"], created["run_id"]) == (name, "1", run.info.run_id)
    assert created["tags"]["mltracker.promoted_by"]


def test_secrets_are_stored_encrypted(mltracker_client, mltracker_hooks):
    secret = _unique("plain-secret")
    webhook = mltracker_client.create_webhook(name="stored", url=f"{PUBLIC}/stored", events=[MV_CREATED],
                                              secret=secret, status=WebhookStatus.DISABLED)
    engine = create_engine(mltracker_hooks.backend_store_uri)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT secret FROM registry_webhooks WHERE id = :id"),
                                  {"id": webhook.webhook_id}).scalar()
    finally:
        engine.dispose()
    assert stored and secret not in stored
