"""A webhook's fields checked with MLflow 3.17's messages (mlflow/utils/validation.py)."""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from mltracker.service.errors import invalid
from mltracker.service.registry_webhooks.addresses import check_public_host

NAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
# Column sizes: MLflow's own (its SQLite store does not enforce them; PostgreSQL would fail).
MAX_URL, MAX_DESCRIPTION, MAX_SECRET = 500, 1000, 1000
STATUSES = {"ACTIVE": "ACTIVE", "DISABLED": "DISABLED", 1: "ACTIVE", 2: "DISABLED"}


@dataclass(frozen=True)
class UrlRules:
    """MLFLOW_WEBHOOK_ALLOWED_SCHEMES (https by default) and MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS."""
    allowed_schemes: tuple[str, ...] = ("https",)
    allow_private_ips: bool = False


def validate_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise invalid(
            f"Webhook name {name!r} is invalid. It must start and end with a letter or digit, be less than "
            "63 characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-)."
        )


def validate_url(url: str, rules: UrlRules) -> None:
    if not url.strip():
        raise invalid(f"Webhook URL cannot be empty or just whitespace: {url!r}")
    try:
        parsed = urllib.parse.urlparse(url)
        hostname = parsed.hostname
    except ValueError as exc:
        raise invalid(f"Invalid webhook URL {url!r}: {exc!r}") from None
    if parsed.scheme not in rules.allowed_schemes:
        raise invalid(f"Invalid webhook URL scheme: {parsed.scheme!r}. "
                      f"Allowed schemes are: {', '.join(rules.allowed_schemes)}.")
    if not hostname:
        raise invalid(f"Webhook URL must include a hostname: {url!r}")
    if len(url) > MAX_URL:
        raise invalid(f"Webhook URL is too long: {len(url)} characters (at most {MAX_URL}).")
    if not rules.allow_private_ips:
        check_public_host(hostname)


def validate_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise invalid(f"Webhook description is too long: {len(description)} characters (at most {MAX_DESCRIPTION}).")


def validate_secret(secret: str | None) -> None:
    if secret is not None and len(secret) > MAX_SECRET:
        raise invalid(f"Webhook secret is too long: {len(secret)} characters (at most {MAX_SECRET}).")


def parse_status(value) -> str | None:
    """Proto3 JSON of mlflow.WebhookStatus: a name or a number; an unknown value reads as unset,
    as MLflow's parser leaves it."""
    if value is None or isinstance(value, bool):
        return None
    return STATUSES.get(value)
