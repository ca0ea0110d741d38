"""Many writers at once through the stock client: nothing lost, nothing failed, no 'database is
locked' (SQLite) and no serialization failures (PostgreSQL)."""
from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from tests.e2e.helpers import unique

pytestmark = pytest.mark.e2e

WRITERS = 16
RUNS_PER_WRITER = 50
METRICS, PARAMS, TAGS = 100, 10, 5
SERVER_LOG_RED_FLAGS = ("database is locked", "Traceback", "deadlock detected", "could not serialize",
                        "OperationalError", "IntegrityError", "WORKER TIMEOUT")


def metric_value(writer: int, run: int, key: int) -> float:
    return writer * 1_000_000 + run * 1000 + key + 0.25


@pytest.fixture
def no_client_retries(monkeypatch):
    """The stock client retries 5xx answers with backoff, which would hide a failing server."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")


def test_concurrent_writers_lose_nothing(live_server, no_client_retries):
    log_offset = len(live_server.log())
    exp = MlflowClient(live_server.url).create_experiment(unique("concurrency"))
    errors: list[str] = []
    created: dict[str, tuple[int, int]] = {}
    lock = threading.Lock()
    start_barrier = threading.Barrier(WRITERS)

    def writer(w: int):
        client = MlflowClient(live_server.url)
        start_barrier.wait()
        for r in range(RUNS_PER_WRITER):
            try:
                run_id = client.create_run(exp, run_name=f"w{w}-r{r}").info.run_id
                with lock:
                    created[run_id] = (w, r)
                now = int(time.time() * 1000)
                client.log_batch(
                    run_id,
                    metrics=[Metric(f"m{k}", metric_value(w, r, k), now, r) for k in range(METRICS)],
                    params=[Param(f"p{k}", f"{w}-{r}-{k}") for k in range(PARAMS)],
                    tags=[RunTag(f"t{k}", f"tag-{w}-{r}-{k}") for k in range(TAGS)],
                )
                client.set_terminated(run_id)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                with lock:
                    errors.append(f"writer {w} run {r}: {type(exc).__name__}: {exc}"[:500])

    started = time.monotonic()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "writers still running after 10 minutes"
    assert errors == [], f"{len(errors)} failed calls, first: {errors[:5]}"
    assert len(created) == WRITERS * RUNS_PER_WRITER

    # every run, with every metric, param and tag, read back through search (paged)
    client = MlflowClient(live_server.url)
    found, token = {}, None
    while True:
        page = client.search_runs([exp], max_results=300, page_token=token)
        for run in page:
            assert run.info.run_id not in found, "a run appeared on two pages"
            found[run.info.run_id] = run
        token = page.token
        if not token:
            break
    assert set(found) == set(created)
    for run_id, (w, r) in created.items():
        run = found[run_id]
        assert run.info.status == "FINISHED"
        assert run.info.run_name == f"w{w}-r{r}"
        assert run.data.metrics == {f"m{k}": metric_value(w, r, k) for k in range(METRICS)}, run.info.run_name
        assert run.data.params == {f"p{k}": f"{w}-{r}-{k}" for k in range(PARAMS)}
        user_tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
        assert user_tags == {f"t{k}": f"tag-{w}-{r}-{k}" for k in range(TAGS)}

    # the history table too: one random key per run, concurrently
    rng = random.Random(0)
    picks = [(run_id, w, r, rng.randrange(METRICS)) for run_id, (w, r) in created.items()]

    def history(pick):
        run_id, w, r, k = pick
        return pick, [(m.step, m.value) for m in client.get_metric_history(run_id, f"m{k}")]

    with ThreadPoolExecutor(WRITERS) as pool:
        for (run_id, w, r, k), points in pool.map(history, picks):
            assert points == [(r, metric_value(w, r, k))], (run_id, k)
    total_points = sum(len(run.data.metrics) for run in found.values())
    assert total_points == WRITERS * RUNS_PER_WRITER * METRICS

    server_log = live_server.log()[log_offset:]
    for flag in SERVER_LOG_RED_FLAGS:
        assert flag not in server_log, f"{flag!r} in the server log:\n{_around(server_log, flag)}"
    print(f"{WRITERS} writers x {RUNS_PER_WRITER} runs: {elapsed:.1f}s")


def test_concurrent_logging_into_one_run(live_server, no_client_retries):
    """Many threads appending to the same run's metric history and params at once."""
    client = MlflowClient(live_server.url)
    exp = client.create_experiment(unique("one-run"))
    run_id = client.create_run(exp).info.run_id
    errors = []

    def work(t: int):
        c = MlflowClient(live_server.url)
        try:
            for i in range(20):
                c.log_batch(run_id, metrics=[Metric("shared", float(t * 100 + i), 1_700_000_000_000 + i, t * 100 + i)],
                            params=[Param(f"thread{t}", str(t))] if i == 0 else [],
                            tags=[RunTag("last_writer", str(t))])
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}"[:300])

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(work, range(WRITERS)))
    assert errors == []
    history = client.get_metric_history(run_id, "shared")
    assert sorted(m.step for m in history) == sorted(t * 100 + i for t in range(WRITERS) for i in range(20))
    run = client.get_run(run_id)
    assert run.data.params == {f"thread{t}": str(t) for t in range(WRITERS)}
    assert run.data.metrics["shared"] == float((WRITERS - 1) * 100 + 19)  # the highest step wins
    assert run.data.tags["last_writer"] in {str(t) for t in range(WRITERS)}


def _around(text: str, needle: str, width: int = 1500) -> str:
    at = text.find(needle)
    return text[max(0, at - width // 2): at + width // 2]
