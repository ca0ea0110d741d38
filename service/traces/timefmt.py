"""Protobuf's JSON forms of Timestamp ("2025-01-02T03:04:05.678Z") and Duration ("1.5s") read into
milliseconds, as TraceInfoV3 carries its request time and execution duration (written back out by
service/api/trace_json.py)."""
from __future__ import annotations

import re
from datetime import datetime

from mltracker.service.errors import invalid

_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)
_DURATION = re.compile(r"^(-)?(\d{1,12})(?:\.(\d{1,9}))?s$")


def parse_timestamp(value, field: str) -> int:
    """A Timestamp in JSON (RFC 3339 text), or a number of milliseconds, to milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _TIMESTAMP.match(value) if isinstance(value, str) else None
    if not match:
        raise invalid(f"Invalid value {value!r} for parameter '{field}': expected an RFC 3339 timestamp.")
    whole, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        raise invalid(f"Invalid value {value!r} for parameter '{field}': expected an RFC 3339 timestamp.") from None
    millis = int((fraction or "0").ljust(9, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def parse_duration(value, field: str) -> int:
    """A Duration in JSON ("1.5s"), or a number of milliseconds, to milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise invalid(f"Invalid value {value!r} for parameter '{field}': expected a duration such as '1.5s'.")
    sign, seconds, fraction = match.groups()
    ms = int(seconds) * 1000 + int((fraction or "0").ljust(9, "0")[:3])
    return -ms if sign else ms
