"""Named leases on SQLite and PostgreSQL."""
import threading

import pytest
from sqlalchemy import update

from mltracker.service.db.jobs_schema import leases
from mltracker.service.jobs.leases import LeaseBusy, held, release, try_acquire


def test_one_holder_at_a_time_and_release(database):
    assert try_acquire(database, "mr:1:1", "a", 60_000)
    assert not try_acquire(database, "mr:1:1", "b", 60_000)
    assert try_acquire(database, "mr:1:1", "a", 60_000)  # the holder may renew
    assert try_acquire(database, "mr:1:2", "b", 60_000)  # another name is free
    release(database, "mr:1:1", "a")
    assert try_acquire(database, "mr:1:1", "b", 60_000)


def test_a_dead_holders_lease_expires(database):
    assert try_acquire(database, "mr:2:1", "dead", 60_000)
    with database.write() as conn:
        conn.execute(update(leases).where(leases.c.name == "mr:2:1").values(expires=0))
    assert try_acquire(database, "mr:2:1", "alive", 60_000)


def test_held_refuses_when_busy_and_releases_after(database):
    with held(database, "mr:3:1", "first"):
        with pytest.raises(LeaseBusy):
            with held(database, "mr:3:1", "second"):
                pass
    with held(database, "mr:3:1", "second"):
        pass


def test_concurrent_takers_get_it_once(database):
    winners, lock = [], threading.Lock()
    barrier = threading.Barrier(8)

    def take(n):
        barrier.wait()
        if try_acquire(database, "mr:4:1", f"t{n}", 60_000):
            with lock:
                winners.append(n)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_a_lease_held_by_a_dead_process_is_taken_over_at_once(database, tmp_path):
    import subprocess
    import sys

    from mltracker.service.jobs.leases import new_holder

    script = (
        "import sys\n"
        "from mltracker.service.db.engine import Database\n"
        "from mltracker.service.jobs.leases import new_holder, try_acquire\n"
        "db = Database(sys.argv[1])\n"
        "assert try_acquire(db, 'report:9:1', new_holder(), 300_000)\n"
        "import os; os._exit(0)  # dies holding it\n"
    )
    subprocess.run([sys.executable, "-c", script, database.uri], check=True, timeout=60)
    assert try_acquire(database, "report:9:1", new_holder(), 300_000)


def test_a_live_holders_lease_is_not_taken_over(database):
    from mltracker.service.jobs.leases import new_holder

    assert try_acquire(database, "report:9:2", new_holder(), 300_000)  # this process: alive
    assert not try_acquire(database, "report:9:2", new_holder(), 300_000)
    assert not try_acquire(database, "report:9:2", "other-host:1:abc", 300_000)


def test_a_job_waiting_for_a_lease_retries_until_it_runs_out(database):
    from sqlalchemy import delete

    from mltracker.service.db.jobs_schema import jobs
    from mltracker.service.jobs import queue
    from mltracker.service.jobs.leases import expires_in_ms
    from mltracker.service.jobs.worker import RetryAfter, run_one

    with database.write() as conn:
        conn.execute(delete(jobs))
    assert try_acquire(database, "report:9:3", "other-host:1:crashed", 300_000)  # a crash elsewhere
    queue.enqueue(database, project_id=9, kind="report", payload={}, dedupe_key="waits", max_attempts=2)
    done = []

    def report(job):
        try:
            with held(database, "report:9:3"):
                done.append(job.id)
        except LeaseBusy as busy:
            raise RetryAfter("the report is being written", busy.expires_in_ms) from None

    for _ in range(4):  # more tries than max_attempts while the lease is held
        assert run_one(database, {"report": report})
        with database.write() as conn:
            conn.execute(update(jobs).values(run_after=0))
    assert done == [] and queue.jobs_of_project(database, 9)[0]["status"] == "queued"
    assert 0 < expires_in_ms(database, "report:9:3") <= 300_000
    with database.write() as conn:  # the lease runs out
        conn.execute(update(leases).where(leases.c.name == "report:9:3").values(expires=0))
    assert run_one(database, {"report": report})
    assert len(done) == 1 and queue.jobs_of_project(database, 9)[0]["status"] == "done"


def test_pods_whose_names_share_a_long_prefix_are_different_pid_spaces():
    from mltracker.service.jobs.leases import holder_is_dead, new_holder, process_space

    one, other = "mltracker-web-7d9f8c6b5-abcde", "mltracker-web-7d9f8c6b5-fghij"
    assert process_space(one) != process_space(other)
    missing_pid = 2**22 + 17
    assert not holder_is_dead(f"{process_space('another-host')}:{missing_pid}:abc")
    assert holder_is_dead(f"{new_holder().split(':')[0]}:{missing_pid}:abc")  # this pid space: gone
