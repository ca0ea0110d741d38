"""Numbers, durations and percentages as the reviewer reads them."""
import math

import pytest

from mltracker.reports.formatting import (
    digits_to_distinguish, duration_unit_seconds, format_duration, format_number, format_percent,
    format_signed,
)


@pytest.mark.parametrize("value, expected", [
    (0.93123, "0.9312"),
    (0.931, "0.931"),
    (0.5, "0.5"),
    (1.0, "1"),
    (12.3456, "12.35"),
    (-0.0123456, "-0.01235"),
    (1234.56, "1,235"),  # large values keep their integer digits
    (12345.678, "12,346"),
    (1_250_000, "1,250,000"),
    (3.0, "3"),
    (0.00012346, "0.0001235"),
    (0.0000123456, "1.235e-05"),
    (2.5e18, "2.5e+18"),
    (0, "0"),
    (None, "—"),
    (math.nan, "NaN"),
    (math.inf, "∞"),
    (-math.inf, "-∞"),
])
def test_format_number(value, expected):
    assert format_number(value) == expected


def test_more_digits_only_when_needed():
    assert digits_to_distinguish([0.91, 0.93]) == 4
    assert digits_to_distinguish([0.912341, 0.912349]) == 5
    assert digits_to_distinguish([0.9123411, 0.9123414, 0.5]) == 7
    assert format_number(0.9123411, 7) == "0.9123411"
    assert digits_to_distinguish([1.0, 1.0 + 1e-15]) == 10  # capped
    assert digits_to_distinguish([None, math.nan, 0.5]) == 4


@pytest.mark.parametrize("value, expected", [
    (0.019, "+0.019"), (-0.047, "-0.047"), (0.0, "±0"), (1500.0, "+1,500"),
])
def test_format_signed(value, expected):
    assert format_signed(value) == expected


@pytest.mark.parametrize("value, expected", [
    (2.083, "+2.1%"), (-15.61, "-15.6%"), (0.0, "±0%"), (0.0123, "+0.012%"), (-0.5, "-0.5%"),
    (1234.5, "+1,234.5%"), (None, None), (math.nan, None),
])
def test_format_percent(value, expected):
    assert format_percent(value) == expected


@pytest.mark.parametrize("seconds, expected", [
    (0.25, "250 ms"), (3.21, "3.2 s"), (42.4, "42 s"), (62.5, "1 min 03 s"), (303, "5 min 03 s"),
    (3725, "1 h 02 min"), (3599.9, "1 h 00 min"), (2 * 86400 + 3 * 3600, "2 d 03 h"), (-3.2, "-3.2 s"),
    (None, "—"), (math.nan, "NaN"),
])
def test_format_duration(seconds, expected):
    assert format_duration(seconds) == expected


@pytest.mark.parametrize("metric, unit", [
    ("epoch_time_s", 1.0), ("latency-ms", 0.001), ("train.duration_min", 60.0), ("step_time_seconds", 1.0),
    ("val_loss", None), ("time", None), ("accuracy_ms2", None), ("tokens_per_s", None), ("samples/s", None),
    ("per_s", None),
])
def test_duration_units(metric, unit):
    assert duration_unit_seconds(metric) == unit
