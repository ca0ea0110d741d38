"""Removes what killed uploads leave behind: `.mltracker-upload-*` temp files older than a limit,
once when the process starts and then periodically, in a daemon thread (a walk of a large
artifact tree must not delay start-up)."""
from __future__ import annotations

import logging
import os
import threading
import time

from mltracker.service.artifacts.local import TEMP_PREFIX

log = logging.getLogger("mltracker")


def sweep_stale_uploads(root: str, max_age: float, now: float | None = None) -> int:
    """Delete temp upload files under root not written to for max_age seconds; how many went.
    Links are not followed: only the artifact tree itself is swept."""
    cutoff = (time.time() if now is None else now) - max_age
    removed = 0
    for directory, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            if not name.startswith(TEMP_PREFIX):
                continue
            path = os.path.join(directory, name)
            try:
                stat = os.lstat(path)
                if stat.st_mtime < cutoff and not os.path.islink(path):
                    os.remove(path)
                    removed += 1
            except OSError:
                continue  # finished or removed meanwhile
    return removed


def start_upload_sweeper(root: str, max_age: float, interval: float) -> threading.Thread:
    """Sweep now and then every `interval` seconds (0: only now)."""

    def run():
        while True:
            try:
                removed = sweep_stale_uploads(root, max_age)
                if removed:
                    log.info("removed %d stale upload temp files", removed)
            except Exception:  # noqa: BLE001 - a failed sweep is retried at the next interval
                log.warning("sweeping stale uploads failed", exc_info=True)
            if interval <= 0:
                return
            time.sleep(interval)

    thread = threading.Thread(target=run, name="mltracker-upload-sweeper", daemon=True)
    thread.start()
    return thread
