"""Registry input checks with MLflow's messages (mlflow/utils/validation.py)."""
from __future__ import annotations

import re

from mltracker.service.errors import invalid
from mltracker.service.tracking.validation import (
    _NAME_RE,
    _BAD_CHARS,
    _bad_path_message,
    _path_not_unique,
    check_length,
    invalid_value,
    missing_value,
)

MAX_MODEL_REGISTRY_TAG_KEY_LENGTH = 250
MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH = 100_000
MAX_REGISTERED_MODEL_ALIAS_LENGTH = 255
LATEST_ALIAS = "latest"

_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")
_BAD_ALIAS_CHARS = "Names may only contain alphanumerics, underscores (_), and dashes (-)."


def validate_model_name(name) -> None:
    if name is None or not isinstance(name, str) or name.strip() == "":
        raise invalid(missing_value("name"))
    if "/" in name or ":" in name:
        raise invalid(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    if _path_not_unique(name):
        raise invalid(invalid_value("name", name, _bad_path_message(name)))


def validate_new_name(new_name) -> None:
    if new_name is None or str(new_name).strip() == "":
        raise invalid(missing_value("new_name"))
    validate_model_name(new_name)


def parse_version(version) -> int:
    try:
        return int(version)
    except (TypeError, ValueError):
        raise invalid(f"Parameter 'version' must be an integer, got '{version}'.") from None


def validate_tag_key(key) -> None:
    if key is None:
        raise invalid(missing_value("key"))
    if not _NAME_RE.match(key):
        raise invalid(invalid_value("key", key, _BAD_CHARS))
    if _path_not_unique(key):
        raise invalid(invalid_value("key", key, _bad_path_message(key)))


def validate_registered_model_tag(key, value) -> None:
    validate_tag_key(key)
    check_length("key", MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, key)
    check_length("value", MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, value)


def validate_model_version_tag(key, value) -> None:
    validate_tag_key(key)
    if value is None:
        raise invalid("Tag value cannot be None")
    check_length("key", MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, key)


def validate_alias(alias) -> None:
    if alias is None or alias == "":
        raise invalid("Registered model alias name cannot be empty.")
    if not _ALIAS_RE.match(alias):
        raise invalid(f"Invalid alias name: '{alias}'. {_BAD_ALIAS_CHARS}")
    check_length("Registered model alias name", MAX_REGISTERED_MODEL_ALIAS_LENGTH, alias)


def validate_alias_not_reserved(alias: str) -> None:
    if alias.lower() == LATEST_ALIAS:
        raise invalid("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS_RE.match(alias):
        raise invalid(f"Version alias name '{alias}' is reserved.")
