"""mltracker's own version, as installed."""
from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def mltracker_version() -> str:
    try:
        return version("mltracker")
    except PackageNotFoundError:
        return "0.0.0"
