"""Optional parts found through the `mltracker.extensions` entry point (the bot is one).

The service never imports them by name, so dependencies keep pointing one way (bot → service).
"""
from __future__ import annotations

import logging
from importlib.metadata import entry_points

log = logging.getLogger("mltracker")
GROUP = "mltracker.extensions"


def load_extensions() -> list:
    found = []
    for entry in entry_points(group=GROUP):
        try:
            found.append(entry.load())
        except Exception:  # noqa: BLE001 - a broken extension must not take the API down
            log.exception("could not load extension %s", entry.name)
    return found
