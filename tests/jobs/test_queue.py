"""The durable job queue on SQLite and PostgreSQL."""
import threading
import time

from sqlalchemy import delete, update

from mltracker.service.db.jobs_schema import jobs
from mltracker.service.jobs import queue
from mltracker.service.jobs.worker import TransientError, WorkerThread, run_one


def _clear(db):
    with db.write() as conn:
        conn.execute(delete(jobs))


def test_enqueue_is_idempotent_per_dedupe_key(database):
    _clear(database)
    assert queue.enqueue(database, project_id=1, kind="report", payload={"p": 1}, dedupe_key="k1")
    assert not queue.enqueue(database, project_id=1, kind="report", payload={"p": 2}, dedupe_key="k1")
    job = queue.claim(database)
    assert job.payload == {"p": 1} and job.attempts == 1
    assert queue.claim(database) is None


def test_completed_job_is_not_taken_again(database):
    _clear(database)
    queue.enqueue(database, project_id=1, kind="k", payload={}, dedupe_key="done-once")
    seen = []
    assert run_one(database, {"k": lambda job: seen.append(job.id)})
    assert not run_one(database, {"k": lambda job: seen.append(job.id)})
    assert len(seen) == 1
    assert queue.jobs_of_project(database, 1)[0]["status"] == "done"


def test_transient_errors_retry_with_backoff_then_fail_visibly(database):
    _clear(database)
    queue.enqueue(database, project_id=2, kind="flaky", payload={}, dedupe_key="flaky", max_attempts=3)
    calls = []

    def flaky(job):
        calls.append(job.attempts)
        raise TransientError("GitLab answered 502")

    for _ in range(3):
        assert run_one(database, {"flaky": flaky}, base_backoff_ms=0)
    assert calls == [1, 2, 3]
    [row] = queue.jobs_of_project(database, 2)
    assert row["status"] == "failed" and "502" in row["last_error"]
    assert not run_one(database, {"flaky": flaky}, base_backoff_ms=0)


def test_backoff_delays_the_retry(database):
    _clear(database)
    queue.enqueue(database, project_id=3, kind="flaky", payload={}, dedupe_key="slow", max_attempts=5)

    def flaky(job):
        raise TransientError("timeout")

    assert run_one(database, {"flaky": flaky}, base_backoff_ms=60_000)
    assert queue.claim(database) is None  # not before its run_after


def test_a_bug_fails_the_job_at_once(database):
    _clear(database)
    queue.enqueue(database, project_id=4, kind="bug", payload={}, dedupe_key="bug")

    def broken(job):
        raise KeyError("oops")

    run_one(database, {"bug": broken})
    [row] = queue.jobs_of_project(database, 4)
    assert row["status"] == "failed" and "KeyError" in row["last_error"]


def test_an_expired_lease_is_taken_again(database):
    _clear(database)
    queue.enqueue(database, project_id=5, kind="k", payload={}, dedupe_key="lease")
    first = queue.claim(database)
    assert queue.claim(database) is None
    with database.write() as conn:  # the worker died: its lease ran out
        conn.execute(update(jobs).where(jobs.c.id == first.id).values(locked_until=0))
    again = queue.claim(database)
    assert again.id == first.id and again.attempts == 2


def test_concurrent_workers_run_each_job_exactly_once(database):
    _clear(database)
    for i in range(60):
        queue.enqueue(database, project_id=6, kind="count", payload={"i": i}, dedupe_key=f"c{i}")
    done, lock = [], threading.Lock()

    def handler(job):
        time.sleep(0.002)
        with lock:
            done.append(job.payload["i"])

    workers = [WorkerThread(database, {"count": handler}, poll_seconds=0.05) for _ in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    while len(done) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    for worker in workers:
        worker.stop()
        worker.join(5)
    assert sorted(done) == list(range(60))


def test_retry_after_requeues_for_then_without_using_up_an_attempt(database):
    from mltracker.service.jobs.worker import RetryAfter
    from mltracker.service.tracking.clock import now_ms

    _clear(database)
    queue.enqueue(database, project_id=7, kind="limited", payload={}, dedupe_key="limited", max_attempts=2)

    def rate_limited(job):
        raise RetryAfter("GitLab answered 429", delay_ms=60_000)

    for _ in range(3):  # more waits than attempts: none of them counts
        before = now_ms()
        assert run_one(database, {"limited": rate_limited})
        with database.read() as conn:
            row = conn.execute(jobs.select().where(jobs.c.dedupe_key == "limited")).one()
        assert row.status == queue.QUEUED and row.attempts == 0
        assert row.run_after >= before + 60_000
        assert queue.claim(database) is None  # nothing sleeps, and nothing runs before Retry-After
        with database.write() as conn:
            conn.execute(update(jobs).where(jobs.c.id == row.id).values(run_after=0))
    assert run_one(database, {"limited": lambda job: None})
    assert queue.jobs_of_project(database, 7)[0]["status"] == "done"


def test_a_permanent_error_fails_the_job_without_retrying(database):
    from mltracker.service.jobs.worker import PermanentError

    _clear(database)
    queue.enqueue(database, project_id=8, kind="refused", payload={}, dedupe_key="refused", max_attempts=6)
    calls = []

    def refused(job):
        calls.append(job.attempts)
        raise PermanentError("POST /projects/8/statuses/abc: GitLab answered 400")

    run_one(database, {"refused": refused}, base_backoff_ms=0)
    assert not run_one(database, {"refused": refused}, base_backoff_ms=0)
    [row] = queue.jobs_of_project(database, 8)
    assert calls == [1] and row["status"] == "failed" and "400" in row["last_error"]


def test_a_job_that_keeps_waiting_fails_once_it_is_too_old(database):
    from mltracker.service.jobs.worker import RetryAfter

    _clear(database)
    queue.enqueue(database, project_id=9, kind="throttled", payload={}, dedupe_key="throttled")
    with database.write() as conn:  # queued long ago
        conn.execute(update(jobs).where(jobs.c.dedupe_key == "throttled")
                     .values(created_time=jobs.c.created_time - queue.MAX_DEFER_AGE_MS - 1))

    def throttled(job):
        raise RetryAfter("GitLab answered 429", delay_ms=1_000)

    assert run_one(database, {"throttled": throttled})
    [row] = queue.jobs_of_project(database, 9)
    assert row["status"] == "failed" and "429" in row["last_error"]
