"""Input validation with MLflow's limits and messages (mlflow/utils/validation.py)."""
from __future__ import annotations

import json
import posixpath
import re
from functools import lru_cache

from mltracker.service.errors import invalid

MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_LOG_REQUEST_SIZE = 1_000_000
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_ENTITY_KEY_LENGTH = 250
MAX_RUN_NAME_LENGTH = 250
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SCHEMA_SIZE = 1048575
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_PROFILE_SIZE = 16777215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
MAX_DATASETS_PER_BATCH = 1000

_NAME_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_MISSING_KEY = "A key name must be provided."
_BAD_CHARS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.),"
    " spaces ( ), colon(:) and slashes (/)."
)


def invalid_value(path: str, value, message: str | None = None) -> str:
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"))
    if message:
        return f"Invalid value {shown} for parameter '{path}' supplied: {message}"
    return f"Invalid value {shown} for parameter '{path}' supplied."


def missing_value(path: str) -> str:
    return f"Missing value for required parameter '{path}'."


def exceeds_maximum_length(path: str, limit: int) -> str:
    return f"'{path}' exceeds the maximum length of {limit} characters"


def json_path(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _path_not_unique(name: str) -> bool:
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


def _bad_path_message(name: str) -> str:
    return (
        "Names may be treated as files in certain cases, and must not resolve to other names"
        f" when treated as such. This name would resolve to {posixpath.normpath(name)!r}"
    )


def _check_entity_name(name, path: str, none_message) -> None:
    """none_message: the text for a missing name, or a callable making it (messages are built
    only on failure: this runs for every metric of every batch)."""
    if isinstance(name, str) and is_good_name(name):
        return
    if name is None:
        raise invalid(none_message() if callable(none_message) else none_message)
    if not isinstance(name, str):
        raise invalid(invalid_value(path, name, "Expected a string."))
    if not _NAME_RE.match(name):
        raise invalid(invalid_value(path, name, _BAD_CHARS))
    raise invalid(invalid_value(path, name, _bad_path_message(name)))


@lru_cache(maxsize=4096)
def is_good_name(name: str) -> bool:
    return bool(_NAME_RE.match(name)) and not _path_not_unique(name)


def check_length(entity: str, limit: int, value) -> None:
    if value is not None and len(value) > limit:
        raise invalid(exceeds_maximum_length(entity, limit))


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def validate_metric(key, value, timestamp, step, path: str = "") -> None:
    name_path = json_path(path, "key" if path else "name")
    _check_entity_name(
        key, name_path, lambda: invalid_value(name_path, key, f"Metric name cannot be None. {_MISSING_KEY}")
    )
    if value is None:
        raise invalid(missing_value(json_path(path, "value")))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(
            invalid_value(
                json_path(path, "value"),
                value,
                f"(timestamp={timestamp}). Please specify value as a valid double (64-bit floating point)",
            )
        )
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp <= INT64_MAX:
        raise invalid(
            invalid_value(
                json_path(path, "timestamp"),
                timestamp,
                f"metric '{key}' (value={value}). Timestamp must be a nonnegative long (64-bit integer) ",
            )
        )
    if isinstance(step, bool) or not isinstance(step, int) or not INT64_MIN <= step <= INT64_MAX:
        raise invalid(
            invalid_value(
                json_path(path, "step"),
                step,
                f"metric '{key}' (value={value}). Step must be a valid long (64-bit integer).",
            )
        )
    check_length("Metric name", MAX_ENTITY_KEY_LENGTH, key)


def truncated(value, limit: int):
    """MLflow (MLFLOW_TRUNCATE_LONG_VALUES, on by default) cuts over-long param and tag values to
    the limit instead of refusing them; the stock client relies on it."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit]
    return value


def validate_param(key, value, path: str = "") -> None:
    key_path = json_path(path, "key")
    _check_entity_name(key, key_path, lambda: invalid_value(key_path, "", _MISSING_KEY))
    if value is None:
        raise invalid(missing_value(json_path(path, "value")))
    check_length("Param key", MAX_ENTITY_KEY_LENGTH, key)
    check_length("Param value", MAX_PARAM_VAL_LENGTH, value)


def validate_tag(key, value, path: str = "") -> None:
    key_path = json_path(path, "key")
    _check_entity_name(key, key_path, missing_value(key_path))
    check_length(key_path, MAX_ENTITY_KEY_LENGTH, key)
    check_length(json_path(path, "value"), MAX_TAG_VAL_LENGTH, value)


def validate_experiment_tag(key, value) -> None:
    _check_entity_name(key, "key", missing_value("key"))
    check_length("key", MAX_EXPERIMENT_TAG_KEY_LENGTH, key)
    check_length("value", MAX_EXPERIMENT_TAG_VAL_LENGTH, value)


def validate_experiment_name(name) -> None:
    if name is None or name == "":
        raise invalid(f"Invalid experiment name: '{name}'")
    if not isinstance(name, str):
        raise invalid(f"Invalid experiment name: {name}. Expects a string.")
    check_length("name", MAX_EXPERIMENT_NAME_LENGTH, name)


def validate_run_id(run_id, path: str = "run_id") -> None:
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise invalid(invalid_value(path, run_id))


def parse_experiment_id(experiment_id) -> int:
    try:
        value = int(experiment_id)
    except (TypeError, ValueError):
        raise invalid(
            f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."
        ) from None
    if value < 0 or value > 2**63 - 1:
        raise invalid(f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer.")
    return value


def validate_batch_limits(n_metrics: int, n_params: int, n_tags: int) -> None:
    for entity, limit, count in (
        ("metrics", MAX_METRICS_PER_BATCH, n_metrics),
        ("params", MAX_PARAMS_TAGS_PER_BATCH, n_params),
        ("tags", MAX_PARAMS_TAGS_PER_BATCH, n_tags),
        ("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, n_metrics + n_params + n_tags),
    ):
        if count > limit:
            raise invalid(
                f"A batch logging request can contain at most {limit} {entity}. "
                f"Got {count} {entity}. Please split up {entity} across multiple"
                " requests and try again."
            )


def validate_param_keys_unique(keys: list[str]) -> None:
    seen: set[str] = set()
    dupes = []
    for key in keys:
        if key in seen:
            dupes.append(key)
        seen.add(key)
    if dupes:
        raise invalid(
            f"Duplicate parameter keys have been submitted: {dupes}. Please ensure "
            "the request contains only one param value per param key."
        )
