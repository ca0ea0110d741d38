"""Registry changes announce themselves here: one delivery job per listening webhook, stored in
the same transaction as the change (a rolled-back change sends nothing; a committed one is
delivered even if the process dies right after)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import Connection

from mltracker.service.jobs.queue import enqueue_in
from mltracker.service.registry_webhooks import store
from mltracker.service.registry_webhooks.events import Event

JOB_KIND = "registry_webhook"
# One first try and MLflow's default MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES (3) more.
MAX_ATTEMPTS = 4


def delivery(webhook_id: str, event: Event, data: dict) -> dict:
    """A delivery job's payload. The delivery id stays the same over retries (receivers can drop
    duplicates by it); the signature's timestamp is taken at each attempt."""
    return {
        "webhook_id": webhook_id, "event": str(event), "data": data,
        "timestamp": datetime.now(timezone.utc).isoformat(), "delivery_id": str(uuid.uuid4()),
    }


def emit(conn: Connection, project_id: int, event: Event, data: dict) -> int:
    """Queue `event` for every active webhook of the project listening to it; how many."""
    queued = 0
    for webhook_id, _url in store.listening(conn, project_id, event):
        payload = delivery(webhook_id, event, data)
        enqueue_in(conn, project_id=project_id, kind=JOB_KIND, payload=payload,
                   dedupe_key=f"{JOB_KIND}:{payload['delivery_id']}", max_attempts=MAX_ATTEMPTS)
        queued += 1
    return queued
