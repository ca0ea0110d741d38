"""POST /webhooks/gitlab: check the secret, store the work, answer at once."""
from __future__ import annotations

import hmac
import json
import logging

from flask import Blueprint, current_app, request

from mltracker.bot.events import KINDS, MergeRequestComment, parse_event, to_payload
from mltracker.service.api.json_response import json_response
from mltracker.service.context import services
from mltracker.service.jobs import queue

log = logging.getLogger("mltracker.bot")
bp = Blueprint("webhooks", __name__)

MAX_BODY_BYTES = 5 * 1024 * 1024


def _secret_ok() -> bool:
    expected = services().settings.webhook_secret
    given = request.headers.get("X-Gitlab-Token", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def delivery_dedupe_key(event) -> str:
    """GitLab's id of the delivery (`Idempotency-Key`, the same on every retry of it; before GitLab
    17.4 `X-Gitlab-Event-UUID`), else the event's own key. A comment is one command however often
    and through however many hooks it arrives, so it keeps its note's key."""
    if isinstance(event, MergeRequestComment):
        return event.dedupe_key
    delivery = request.headers.get("Idempotency-Key") or request.headers.get("X-Gitlab-Event-UUID")
    return f"delivery:{KINDS[type(event)]}:{delivery.strip()[:200]}" if delivery else event.dedupe_key


@bp.post("/webhooks/gitlab")
def receive():
    if not _secret_ok():
        return json_response({"error_code": "UNAUTHENTICATED", "message": "Invalid or missing X-Gitlab-Token."}, 401)
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return json_response({"status": "ignored", "reason": "body too large"})
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except ValueError:
        return json_response({"status": "ignored", "reason": "malformed JSON"})
    event = parse_event(request.headers.get("X-Gitlab-Event"), body)
    if event is None:
        return json_response({"status": "ignored"})
    stored = queue.enqueue(
        services().db,
        project_id=event.project_id,
        kind=KINDS[type(event)],
        payload=to_payload(event),
        dedupe_key=delivery_dedupe_key(event),
    )
    current_app.extensions.get("mltracker_worker_wakeup", lambda: None)()
    return json_response({"status": "queued" if stored else "duplicate"})
