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
