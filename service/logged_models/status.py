"""Logged model status: stored as MLflow's int, sent as the proto enum name."""
from __future__ import annotations

from mltracker.service.errors import invalid

UNSPECIFIED, PENDING, READY, FAILED = 0, 1, 2, 3
NAMES = {
    UNSPECIFIED: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    PENDING: "LOGGED_MODEL_PENDING",
    READY: "LOGGED_MODEL_READY",
    FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_BY_NAME = {name: number for number, name in NAMES.items()}


def parse_status(value) -> int:
    """The proto enum as JSON sends it (its name) or as a number."""
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number in NAMES:
        return number
    raise invalid(f"Unknown model status: {value}")
