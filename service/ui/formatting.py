"""Jinja filters: times, durations, sizes, numbers, dataset sources."""
from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime, timezone

from markupsafe import Markup, escape


def datetime_text(ms: int | None) -> str:
    if not ms:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(ms: int | None, now_ms: int | None = None) -> str:
    if not ms:
        return "never"
    seconds = ((now_ms if now_ms is not None else time.time() * 1000) - ms) / 1000
    if seconds < 0:
        return "just now"
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def duration_text(start_ms: int | None, end_ms: int | None) -> str:
    if not start_ms or not end_ms or end_ms < start_ms:
        return "—"
    seconds = (end_ms - start_ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def size_text(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def number_text(value) -> str:
    """A metric value: NaN/Infinity as MLflow sends them, else up to 6 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


_BREAK_AFTER = re.compile(r"([_./:-])")


def breakable(key) -> Markup:
    """A long key (metric, param, tag) that may wrap after its separators instead of mid-word."""
    return Markup(_BREAK_AFTER.sub(lambda m: m.group(1) + "\x00", str(escape(key))).replace("\x00", "<wbr>"))


# The fields of MLflow's dataset sources (http, s3, delta, huggingface, spark, …) that say where the data is.
_SOURCE_LOCATIONS = ("url", "uri", "path", "table_name", "sql")


def dataset_source_text(source_type: str | None, source: str | None) -> str:
    """A dataset's source as a person reads it, not the JSON MLflow stores.

    `code` sources (what autologging records) name the script that built the data set."""
    kind = source_type or "unknown"
    try:
        parsed = json.loads(source or "")
    except ValueError:
        return f"{kind}: {source}" if source else kind
    if not isinstance(parsed, dict):
        return f"{kind}: {source}"
    tags = parsed.get("tags") if isinstance(parsed.get("tags"), dict) else {}
    if kind == "code" and tags:
        script = tags.get("mlflow.source.name") or "unknown script"
        details = ", ".join(v for v in (tags.get("mlflow.source.type"), tags.get("mlflow.user")) if v)
        return f"code: {script}" + (f" ({details})" if details else "")
    for field in _SOURCE_LOCATIONS:
        if parsed.get(field):
            return f"{kind}: {parsed[field]}"
    parts = [f"{k}={v}" for k, v in parsed.items() if isinstance(v, (str, int, float)) and v != ""]
    return f"{kind}: {', '.join(parts)}" if parts else kind


FILTERS = {
    "datetime": datetime_text,
    "ago": ago,
    "size": size_text,
    "num": number_text,
    "breakable": breakable,
    "dataset_source": lambda dataset: dataset_source_text(dataset.source_type, dataset.source),
}
