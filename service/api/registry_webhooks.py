"""MLflow's registry webhook endpoints (`/mlflow/webhooks…`), per project like the rest of the API."""
from __future__ import annotations

from flask import Blueprint

from mltracker.service.api.json_response import json_response
from mltracker.service.api.registry_webhook_json import webhook_json, webhook_test_json
from mltracker.service.api.request import message
from mltracker.service.context import current_project_id, services
from mltracker.service.registry_webhooks import delivery, store
from mltracker.service.registry_webhooks.events import parse_events
from mltracker.service.registry_webhooks.validation import parse_status

bp = Blueprint("registry_webhooks", __name__)


def _config() -> delivery.DeliveryConfig:
    return services().registry_webhooks


def _events(msg, required: bool):
    raw = msg.raw("events")
    if raw is None or (raw == [] and not required):
        return None
    if not isinstance(raw, list):
        raise msg._type_error("events", raw)
    return parse_events(raw)


@bp.post("/webhooks")
def create_webhook():
    msg = message()
    name = msg.string("name", required=True)
    url = msg.string("url", required=True)
    if msg.raw("events") is None:
        msg._require("events", None)
    description = msg.string("description")
    secret = msg.string("secret")
    events = _events(msg, required=True)
    config = _config()
    with services().db.write() as conn:
        webhook = store.create(
            conn, config.box, config.rules, current_project_id(), name=name, url=url, events=events,
            description=description or None, secret=secret or None, status=parse_status(msg.raw("status")),
        )
    return json_response({"webhook": webhook_json(webhook)})


@bp.get("/webhooks")
def list_webhooks():
    msg = message()
    max_results = msg.integer("max_results")
    page_token = msg.string("page_token")
    with services().db.read() as conn:
        webhooks, token = store.list_page(conn, current_project_id(), max_results, page_token or None)
    payload: dict = {"webhooks": [webhook_json(w) for w in webhooks]} if webhooks else {}
    if token:
        payload["next_page_token"] = token
    return json_response(payload)


@bp.get("/webhooks/<webhook_id>")
def get_webhook(webhook_id: str):
    with services().db.read() as conn:
        webhook = store.get(conn, current_project_id(), webhook_id)
    return json_response({"webhook": webhook_json(webhook)})


@bp.patch("/webhooks/<webhook_id>")
def update_webhook(webhook_id: str):
    msg = message()
    name = msg.string("name")
    description = msg.string("description")
    url = msg.string("url")
    secret = msg.string("secret")
    events = _events(msg, required=False)
    config = _config()
    with services().db.write() as conn:
        webhook = store.change(
            conn, config.box, config.rules, current_project_id(), webhook_id,
            name=name or None, url=url or None, events=events, description=description, secret=secret,
            status=parse_status(msg.raw("status")),
        )
    return json_response({"webhook": webhook_json(webhook)})


@bp.delete("/webhooks/<webhook_id>")
def delete_webhook(webhook_id: str):
    with services().db.write() as conn:
        store.delete_webhook(conn, current_project_id(), webhook_id)
    return json_response({})


@bp.post("/webhooks/<webhook_id>/test")
def test_webhook(webhook_id: str):
    msg = message()
    raw_event = msg.raw("event")
    event = parse_events([raw_event])[0] if raw_event is not None else None
    with services().db.read() as conn:
        webhook = store.get(conn, current_project_id(), webhook_id)
    return json_response({"result": webhook_test_json(delivery.test(_config(), webhook, event))})
