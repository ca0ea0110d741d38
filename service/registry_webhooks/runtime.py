"""Wiring from settings: the delivery configuration (secret key, URL rules, timeout) and the
worker thread that delivers queued events (in `mltracker serve` and in `mltracker worker`)."""
from __future__ import annotations

import atexit

from mltracker.service.db.engine import Database
from mltracker.service.jobs.worker import WorkerThread
from mltracker.service.registry_webhooks.delivery import DeliveryConfig, job_handler
from mltracker.service.registry_webhooks.emit import JOB_KIND
from mltracker.service.registry_webhooks.secrets import SecretBox
from mltracker.service.registry_webhooks.validation import UrlRules
from mltracker.service.settings import Settings


def encryption_key(settings: Settings) -> str:
    """The key secrets at rest are sealed with: the dedicated one, else the app's secret key."""
    from mltracker.service.ui.security import load_secret_key

    return settings.webhook_encryption_key or load_secret_key(settings)


def url_rules(settings: Settings) -> UrlRules:
    return UrlRules(tuple(settings.webhook_allowed_schemes), settings.webhook_allow_private_ips)


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(SecretBox(encryption_key(settings)), url_rules(settings), settings.webhook_timeout)


def start_worker(db: Database, config: DeliveryConfig) -> WorkerThread:
    worker = WorkerThread(db, {JOB_KIND: job_handler(db, config)}, poll_seconds=1.0)
    worker.name = "mltracker-registry-webhooks"
    worker.start()
    atexit.register(worker.stop)
    return worker
