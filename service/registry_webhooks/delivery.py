"""Delivering queued events (a job handler) and the `test` endpoint's one synchronous send."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests

from mltracker.service.db.engine import Database
from mltracker.service.errors import MlflowError
from mltracker.service.jobs.queue import Job
from mltracker.service.jobs.worker import PermanentError, TransientError
from mltracker.service.registry_webhooks import sending, store
from mltracker.service.registry_webhooks.events import EXAMPLE_PAYLOADS, Event
from mltracker.service.registry_webhooks.secrets import SecretBox, SecretUnreadable
from mltracker.service.registry_webhooks.validation import UrlRules, validate_url

log = logging.getLogger("mltracker.registry_webhooks")

# The answers MLflow's delivery retries (its urllib3 Retry status_forcelist).
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class DeliveryConfig:
    box: SecretBox
    rules: UrlRules
    timeout: float

    def session(self) -> requests.Session:
        return sending.session(self.rules.allow_private_ips)


def _host(url: str) -> str:
    """Where a delivery went, for logs and job errors (a URL may carry credentials or tokens)."""
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def job_handler(db: Database, config: DeliveryConfig):
    http = config.session()

    def deliver(job: Job) -> None:
        payload = job.payload
        with db.read() as conn:
            try:
                webhook = store.get(conn, job.project_id, payload["webhook_id"])
            except MlflowError:
                log.info("webhook %s was deleted; delivery %s dropped", payload["webhook_id"], payload["delivery_id"])
                return
        if webhook.status != "ACTIVE":
            log.info("webhook %s is disabled; delivery %s dropped", webhook.id, payload["delivery_id"])
            return
        where = f"webhook {webhook.id} ({_host(webhook.url)})"
        try:
            validate_url(webhook.url, config.rules)
            secret = config.box.open(webhook.sealed_secret)
        except MlflowError as exc:
            raise PermanentError(f"{where}: {exc.message}") from None
        except SecretUnreadable as exc:
            raise PermanentError(f"{where}: {exc}; set the secret again (update_webhook)") from None
        try:
            sent = sending.post(http, webhook.url, event=payload["event"], data=payload["data"],
                                timestamp=payload["timestamp"], delivery_id=payload["delivery_id"],
                                secret=secret, timeout=config.timeout)
        except sending.NonPublicPeer as exc:
            raise PermanentError(f"{where}: {exc}") from None
        except requests.RequestException as exc:
            raise TransientError(f"{where}: no answer ({type(exc).__name__})") from None
        if sent.status in RETRIED_STATUSES:
            raise TransientError(f"{where}: answered HTTP {sent.status}")
        if sent.status >= 400:
            raise PermanentError(f"{where}: answered HTTP {sent.status}")

    return deliver


@dataclass(frozen=True)
class WebhookTestResult:
    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error_message: str | None = None


def test(config: DeliveryConfig, webhook: store.Webhook, event: Event | None) -> WebhookTestResult:
    """Send the example payload of `event` (default: the webhook's first event) once, now."""
    chosen = event or webhook.events[0]
    try:
        validate_url(webhook.url, config.rules)
        secret = config.box.open(webhook.sealed_secret)
        with config.session() as http:
            sent = sending.post(
                http, webhook.url, event=str(chosen), data=EXAMPLE_PAYLOADS[chosen],
                timestamp=datetime.now(timezone.utc).isoformat(), delivery_id=str(uuid.uuid4()),
                secret=secret, timeout=config.timeout,
            )
    except MlflowError as exc:
        return WebhookTestResult(False, error_message=f"Failed to test webhook: {exc.message}")
    except SecretUnreadable as exc:
        return WebhookTestResult(False, error_message=f"Failed to test webhook: {exc}")
    except (sending.NonPublicPeer, requests.RequestException) as exc:
        return WebhookTestResult(False, error_message=f"Failed to test webhook: {exc!r}")
    return WebhookTestResult(sent.status < 400, response_status=sent.status, response_body=sent.body or None)
