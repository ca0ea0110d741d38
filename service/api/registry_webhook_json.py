"""The MLflow JSON of registry webhooks: the Webhook message (never with its secret) and
WebhookTestResult."""
from __future__ import annotations

from mltracker.service.registry_webhooks.delivery import WebhookTestResult
from mltracker.service.registry_webhooks.events import Event
from mltracker.service.registry_webhooks.store import Webhook


def event_json(event: Event) -> dict:
    return {"entity": event.entity.upper(), "action": event.action.upper()}


def webhook_json(webhook: Webhook) -> dict:
    payload = {"webhook_id": webhook.id, "name": webhook.name}
    if webhook.description:
        payload["description"] = webhook.description
    payload.update({
        "url": webhook.url, "events": [event_json(e) for e in webhook.events], "status": webhook.status,
        "creation_timestamp": webhook.creation_timestamp, "last_updated_timestamp": webhook.last_updated_timestamp,
    })
    return payload


def webhook_test_json(result: WebhookTestResult) -> dict:
    if result.error_message is not None:
        return {"success": result.success, "error_message": result.error_message}
    payload = {"success": result.success, "response_status": result.response_status}
    if result.response_body:
        payload["response_body"] = result.response_body
    return payload
