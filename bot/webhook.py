"""POST /webhooks/gitlab: check the secret, store the work, answer at once.

The secret is checked against the project the delivery is for: a project with its own secret
(`mltracker webhook add`) accepts only that one; the instance-wide MLTRACKER_WEBHOOK_SECRET is
accepted for projects without their own. A token that is no secret at all is refused before the
body is read; otherwise the payload is parsed (bounded in size) to learn the project, and nothing is
stored or acted on before the secret matches that project.
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, request

from mltracker.bot.events import KINDS, MergeRequestComment, parse_event, to_payload
from mltracker.service.api.json_response import json_response
from mltracker.service.context import services
from mltracker.service.jobs import queue
from mltracker.service.webhooks import secrets

log = logging.getLogger("mltracker.bot")
bp = Blueprint("webhooks", __name__)

MAX_BODY_BYTES = 5 * 1024 * 1024


def _unauthenticated():
    return json_response({"error_code": "UNAUTHENTICATED", "message": "Invalid or missing X-Gitlab-Token."}, 401)


def _secret_ok(project_id: int | None) -> bool:
    given = request.headers.get("X-Gitlab-Token", "")
    return bool(given) and secrets.accepts(services().db, project_id, given, services().settings.webhook_secret)


def _claimed_project(body) -> int | None:
    if not isinstance(body, dict):
        return None
    try:
        claimed = body["project_id"] if "project_id" in body else (body.get("project") or {}).get("id")
        return int(claimed) if claimed is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


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
    given = request.headers.get("X-Gitlab-Token")
    if not given or not secrets.known(services().db, given, services().settings.webhook_secret):
        return _unauthenticated()
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _ignored(None, "body too large")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        return _ignored(None, "body too large")
    try:
        body = json.loads(raw or b"null")
    except (ValueError, RecursionError):
        return _ignored(None, "malformed JSON")
    event = parse_event(request.headers.get("X-Gitlab-Event"), body)
    project_id = event.project_id if event is not None else _claimed_project(body)
    if not _secret_ok(project_id):
        return _unauthenticated()
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


def _ignored(project_id: int | None, reason: str):
    """Acknowledged without work (GitLab disables hooks that keep failing) — if the secret is right."""
    if not _secret_ok(project_id):
        return _unauthenticated()
    return json_response({"status": "ignored", "reason": reason})
