"""Human-readable numbers: significant digits, thousands separators, durations, signed percentages."""
from __future__ import annotations

import math
import re
from collections.abc import Iterable

MISSING = "—"
DEFAULT_DIGITS = 4
MAX_DIGITS = 10

# Outside this range plain decimals get unreadable; use scientific notation.
_SCI_BELOW = 1e-4
_SCI_FROM = 1e15


def format_number(value: float | None, digits: int = DEFAULT_DIGITS) -> str:
    """4 significant digits by default, thousands separators, trailing zeros dropped."""
    if value is None:
        return MISSING
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude < _SCI_BELOW or magnitude >= _SCI_FROM:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{_trim_zeros(mantissa)}e{exponent}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    text = f"{value:,.{decimals}f}"
    return _trim_zeros(text) if decimals else text


def _trim_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def digits_to_distinguish(values: Iterable[float | None], start: int = DEFAULT_DIGITS) -> int:
    """Fewest significant digits (>= start, <= MAX_DIGITS) at which distinct values print differently."""
    distinct = {float(v) for v in values if v is not None and math.isfinite(v)}
    digits = start
    while digits < MAX_DIGITS and len({format_number(v, digits) for v in distinct}) < len(distinct):
        digits += 1
    return digits


def format_signed(value: float, digits: int = DEFAULT_DIGITS) -> str:
    if value == 0:
        return "±0"
    text = format_number(value, digits)
    return text if text.startswith("-") else "+" + text


def format_percent(value: float | None) -> str | None:
    """`+2.1%`, `-0.35%`; small changes keep two significant digits so they don't read as 0."""
    if value is None or not math.isfinite(value):
        return None
    if value == 0:
        return "±0%"
    decimals = 1 if abs(value) >= 0.1 else max(1, 1 - math.floor(math.log10(abs(value))))
    text = f"{value:+,.{decimals}f}%"
    return "±0%" if text in {"+0.0%", "-0.0%"} else text


def format_duration(seconds: float | None) -> str:
    """`850 ms`, `3.2 s`, `42 s`, `5 min 03 s`, `1 h 02 min`, `2 d 03 h`."""
    if seconds is None:
        return MISSING
    if math.isnan(seconds):
        return "NaN"
    if math.isinf(seconds):
        return "∞" if seconds > 0 else "-∞"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 1:
        text = f"{format_number(s * 1000, 3)} ms"
    elif s < 10:
        text = f"{s:.1f} s"
    elif s < 60:
        text = f"{s:.0f} s"
    elif s < 3600:
        minutes, secs = divmod(_round_half_up(s), 60)
        text = f"{minutes} min {secs:02d} s" if minutes < 60 else "1 h 00 min"
    elif s < 86400:
        hours, minutes = divmod(_round_half_up(s / 60), 60)
        text = f"{hours} h {minutes:02d} min" if hours < 24 else "1 d 00 h"
    else:
        days, hours = divmod(_round_half_up(s / 3600), 24)
        text = f"{days} d {hours:02d} h"
    return sign + text


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def format_signed_duration(seconds: float) -> str:
    if seconds == 0:
        return "±0 s"
    text = format_duration(seconds)
    return text if text.startswith("-") else "+" + text


# A trailing unit word says the metric is a duration: `epoch_time_s`, `latency-ms`, `train.duration_min`;
# but not a rate: `tokens_per_s`, `samples/s`.
_UNIT_SECONDS = {
    "ms": 1e-3, "millis": 1e-3, "milliseconds": 1e-3,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minutes": 60.0,
    "h": 3600.0, "hours": 3600.0,
}
_UNIT_SUFFIX = re.compile(r"(?<![/_\-. ]per)(?<!^per)[_\-. ]([A-Za-z]+)$", re.IGNORECASE)


def duration_unit_seconds(metric: str) -> float | None:
    """Seconds per unit when the metric name ends with a time unit, else None."""
    match = _UNIT_SUFFIX.search(metric)
    return _UNIT_SECONDS.get(match.group(1).lower()) if match else None
