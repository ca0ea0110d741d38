"""Checks of what clients send to the gateway configuration, with MLflow's messages where MLflow
has one, and bounds on every size."""
from __future__ import annotations

import re
import urllib.parse

from mltracker.service.errors import MlflowError, invalid
from mltracker.service.registry_webhooks.addresses import check_public_host
from mltracker.service.registry_webhooks.validation import UrlRules

MAX_NAME, MAX_PROVIDER, MAX_USER = 255, 100, 255
MAX_ENTRIES, MAX_VALUE, MAX_URL = 32, 16 * 1024, 500
ENDPOINT_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,255}")
# Options that choose where a gateway sends requests: only `api_base` (checked) may say that.
DESTINATION_KEYS = frozenset({"api_base", "base_url", "model_list", "fallbacks", "custom_llm_provider"})
LINKAGE_TYPES = ("PRIMARY", "FALLBACK")


def check_length(field: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise invalid(f"'{field}' is too long: {len(value)} characters (at most {limit}).")


def check_name(field: str, name: str) -> None:
    if not name.strip():
        raise invalid(f"Missing value for required parameter '{field}'.")
    check_length(field, name, MAX_NAME)


def check_endpoint_name(name: str) -> None:
    if not ENDPOINT_NAME.fullmatch(name):
        raise invalid(f"Invalid endpoint name '{name[:MAX_NAME]}'. "
                      "Name can only contain letters, numbers, underscores, hyphens, and dots.")


def string_map(field: str, value) -> dict[str, str]:
    """A proto map<string, string>: a JSON object of strings, bounded."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise invalid(f"Invalid value for parameter '{field}': expected an object of strings.")
    if len(value) > MAX_ENTRIES:
        raise invalid(f"'{field}' may have at most {MAX_ENTRIES} entries.")
    for key, item in value.items():
        check_length(f"{field}.{key[:50]}", key, MAX_NAME)
        check_length(f"{field}.{key[:50]}", item, MAX_VALUE)
    return value


def check_secret_value(secret_value: dict[str, str]) -> None:
    if reserved := sorted(DESTINATION_KEYS & set(secret_value)):
        raise invalid(f"secret_value must not contain {', '.join(map(repr, reserved))}: these keys choose where "
                      "the gateway sends requests. Set the upstream with 'api_base' in auth_config, where it "
                      "is validated.")


def normalized_auth_config(auth_config: dict[str, str], rules: UrlRules) -> dict[str, str]:
    """MLflow's rules: no destination key but `api_base`, which must be an allowed public URL; a
    blank `api_base` is dropped."""
    if reserved := sorted((DESTINATION_KEYS - {"api_base"}) & set(auth_config)):
        raise invalid(f"auth_config must not contain {', '.join(map(repr, reserved))}: these LiteLLM options "
                      "choose where the gateway sends requests. Set the upstream with 'api_base', which is "
                      "validated.")
    normalized = dict(auth_config)
    api_base = normalized.pop("api_base", "").strip()
    if api_base:
        _check_api_base(api_base, rules)
        normalized["api_base"] = api_base
    return normalized


def _check_api_base(url: str, rules: UrlRules) -> None:
    check_length("auth_config.api_base", url, MAX_URL)
    try:
        parsed = urllib.parse.urlparse(url)
        hostname = parsed.hostname
    except ValueError:
        raise invalid(f"Invalid Gateway secret api_base: {url!r}") from None
    if parsed.scheme not in rules.allowed_schemes or not hostname:
        raise invalid(f"Invalid Gateway secret api_base: {url!r}. It must be an "
                      f"{' or '.join(rules.allowed_schemes)} URL with a host name.")
    if not rules.allow_private_ips:
        try:
            check_public_host(hostname)
        except MlflowError as exc:
            raise invalid(str(exc).replace("Webhook URL", "Gateway secret api_base")) from None


def linkage_type(value) -> str:
    """Proto3 JSON of GatewayModelLinkageType: a name or a number."""
    names = {1: "PRIMARY", 2: "FALLBACK"}
    name = names.get(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if name not in LINKAGE_TYPES:
        raise invalid(f"Invalid or missing value for required parameter 'linkage_type'. "
                      f"Must be one of: {', '.join(LINKAGE_TYPES)}.")
    return name
