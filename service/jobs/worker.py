"""Workers that take jobs from the queue and run the handler for their kind."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from mltracker.service.db.engine import Database
from mltracker.service.jobs import queue

log = logging.getLogger("mltracker.jobs")

Handler = Callable[[queue.Job], None]


MAX_DEFER_MS = 3_600_000


class TransientError(Exception):
    """Worth another try later (GitLab 5xx, timeouts); uses up one of the job's attempts."""


class RetryAfter(TransientError):
    """Try again once a wait decided elsewhere is over: GitLab's `Retry-After`, a lease that has not
    run out yet. The job is queued again for then, without using up an attempt (the wait says
    nothing about whether the work can succeed), and no thread sleeps meanwhile."""

    def __init__(self, message: str, delay_ms: int):
        super().__init__(message)
        self.delay_ms = max(0, int(delay_ms))


class PermanentError(Exception):
    """Another try cannot help (e.g. GitLab refused the request as invalid): the job fails at once."""


def backoff_ms(attempt: int, base_ms: int = 1000, cap_ms: int = 300_000) -> int:
    return min(cap_ms, base_ms * 2 ** max(0, attempt - 1))


def run_one(db: Database, handlers: dict[str, Handler], base_backoff_ms: int = 1000) -> bool:
    """Take and run one job of the kinds `handlers` knows. False when none was ready."""
    job = queue.claim(db, kinds=handlers)
    if job is None:
        return False
    handler = handlers[job.kind]
    try:
        handler(job)
    except RetryAfter as exc:
        delay = min(exc.delay_ms, MAX_DEFER_MS)
        if queue.defer(db, job, str(exc), delay):
            log.info("job %s (%s) waits %d ms: %s", job.id, job.kind, delay, exc)
        else:
            log.error("job %s (%s) failed: waited too long: %s", job.id, job.kind, exc)
    except PermanentError as exc:
        queue.fail(db, job, str(exc))
        log.error("job %s (%s) failed for good: %s", job.id, job.kind, exc)
    except TransientError as exc:
        delay = backoff_ms(job.attempts, base_backoff_ms)
        if queue.retry_later(db, job, str(exc), delay):
            log.warning("job %s (%s) attempt %d failed, retrying in %d ms: %s",
                        job.id, job.kind, job.attempts, delay, exc)
        else:
            log.error("job %s (%s) failed after %d attempts: %s", job.id, job.kind, job.attempts, exc)
    except Exception as exc:  # noqa: BLE001 - a bug in one job must not stop the worker
        queue.fail(db, job, f"{type(exc).__name__}: {exc}")
        log.exception("job %s (%s) failed", job.id, job.kind)
    else:
        queue.complete(db, job)
    return True


class WorkerThread(threading.Thread):
    """Polls the queue until stopped; used in-process by `mltracker serve` and by `mltracker worker`."""

    def __init__(self, db: Database, handlers: dict[str, Handler], poll_seconds: float = 1.0,
                 base_backoff_ms: int = 1000):
        super().__init__(name="mltracker-worker", daemon=True)
        self.db, self.handlers = db, handlers
        self.poll_seconds, self.base_backoff_ms = poll_seconds, base_backoff_ms
        self.stopping = threading.Event()
        self._woken = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = run_one(self.db, self.handlers, self.base_backoff_ms)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unreachable
                log.exception("worker could not take a job")
                busy = False
            if not busy:
                self._woken.wait(self.poll_seconds)
                self._woken.clear()

    def wake(self) -> None:
        """New work was just stored: look now instead of at the next poll."""
        self._woken.set()

    def stop(self) -> None:
        self.stopping.set()
        self._woken.set()
