"""Progress per phase: a bar with counts and rate on a terminal, plain log lines otherwise."""
from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

LOG_EVERY_S = 5.0
BAR_WIDTH = 30


class Progress:
    def __init__(self, stream: TextIO | None = None, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._lock = threading.Lock()
        self._phase: str | None = None

    def phase(self, name: str, total: int | None = None) -> "Phase":
        return Phase(self, name, total)

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text)
            self.stream.flush()


class Phase:
    def __init__(self, progress: Progress, name: str, total: int | None):
        self.progress, self.name, self.total = progress, name, total
        self.done = 0
        self.started = time.monotonic()
        self._last_log = 0.0
        self._lock = threading.Lock()
        if not progress.tty:
            progress._write(f"{name}: started" + (f" ({total} to do)" if total is not None else "") + "\n")

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            now = time.monotonic()
            if self.progress.tty:
                if now - self._last_log >= 0.1:
                    self._last_log = now
                    self.progress._write("\r" + self._line(now))
            elif now - self._last_log >= LOG_EVERY_S:
                self._last_log = now
                self.progress._write(self._line(now) + "\n")

    def _line(self, now: float) -> str:
        rate = self.done / max(now - self.started, 1e-6)
        if self.total:
            filled = int(BAR_WIDTH * min(self.done, self.total) / self.total)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            return f"{self.name:<18} [{bar}] {self.done}/{self.total} {rate:.1f}/s"
        return f"{self.name:<18} {self.done} {rate:.1f}/s"

    def finish(self) -> None:
        now = time.monotonic()
        line = self._line(now) + f" in {now - self.started:.1f}s"
        self.progress._write(("\r" + line + "\n") if self.progress.tty else (line + " (done)\n"))
