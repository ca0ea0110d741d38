"""MLflow's per-field request checks (the `_assert_*` schema of mlflow/server/handlers.py), with
its exact messages, for the fields our typed request reader does not already check that way."""
from __future__ import annotations

from mltracker.service.api.request import DOCS_HINT
from mltracker.service.errors import invalid
from mltracker.service.tracking.validation import invalid_value, missing_value


def require(value, path: str) -> None:
    if value is None or value == "":
        raise invalid(missing_value(path) + DOCS_HINT)


def _wrong_type(value, path: str):
    return invalid(invalid_value(path, value, f" Hint: Value was of type '{type(value).__name__}'.") + DOCS_HINT)


def intlike(value, path: str) -> None:
    """An integer or anything int() reads as one ("12", 3.0); a missing value passes."""
    if value is None:
        return
    try:
        int(value)
    except (TypeError, ValueError):
        raise _wrong_type(value, path) from None


def floatlike(value, path: str) -> None:
    """A number or anything float() reads as one ("1.5", "NaN"); a missing value passes."""
    if value is None:
        return
    try:
        float(value)
    except (TypeError, ValueError):
        raise _wrong_type(value, path) from None


def require_keys(items: list[dict], collection: str, fields: tuple[str, ...]) -> None:
    """Each item of a batch carries the fields it must ("metrics[3].timestamp")."""
    for index, item in enumerate(items):
        for field in fields:
            require(item.get(field), f"{collection}[{index}].{field}")
