"""A 1 GiB artifact through the stock client: upload, download, same SHA-256, and the server's
memory stays small (bodies are streamed, never held whole)."""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.e2e.helpers import tracking_uri_env, unique

# Not marked slow: about 30 s here (10 s of it generating the file), under the 60 s threshold.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("live_server", ["sqlite-local"], indirect=True)]

SIZE = 1 << 30  # 1 GiB
BLOCK = 4 << 20
MEMORY_LIMIT_MB = 300


def write_big_file(path: Path) -> str:
    """1 GiB of incompressible, non-repeating bytes, written block by block; returns its SHA-256."""
    seed = os.urandom(BLOCK)
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for i in range(SIZE // BLOCK):
            # a fresh block each time without generating 1 GiB of randomness: rotate the seed
            shift = (i * 7919) % BLOCK
            block = i.to_bytes(8, "big") + seed[shift:] + seed[:shift]
            block = block[:BLOCK]
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(BLOCK):
            digest.update(chunk)
    return digest.hexdigest()


def server_pids(port: int) -> list[int]:
    """The `mltracker serve --port <port>` process and its gunicorn workers (same command line)."""
    pids = []
    pattern = re.compile(rf"(^|\s)--port\s{port}(\s|$)")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "mltracker.service.cli" in cmdline and " serve " in cmdline and pattern.search(cmdline):
            pids.append(int(entry.name))
    return pids


def memory_mb(pid: int) -> dict[str, float]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return values


class MemoryWatch:
    """Samples VmRSS of the server processes while the transfer runs; VmHWM at the end."""

    def __init__(self, port: int):
        self.pids = server_pids(port)
        self.peak_rss: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in self.pids:
                rss = memory_mb(pid).get("VmRSS", 0.0)
                self.peak_rss[pid] = max(self.peak_rss.get(pid, 0.0), rss)
            time.sleep(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def high_water_marks(self) -> dict[int, float]:
        return {pid: memory_mb(pid).get("VmHWM", 0.0) for pid in self.pids}


def test_one_gib_artifact_round_trip(live_server, tmp_path):
    port = int(live_server.url.rsplit(":", 1)[1])
    watch = MemoryWatch(port)
    assert len(watch.pids) >= 2, f"expected the server and its workers, found {watch.pids}"
    hwm_before = watch.high_water_marks()

    source = tmp_path / "big.bin"
    started = time.monotonic()
    expected = write_big_file(source)
    generated = time.monotonic()
    try:
        with tracking_uri_env(live_server.url), watch:
            client = MlflowClient(live_server.url)
            run_id = client.create_run(client.create_experiment(unique("large"))).info.run_id
            client.log_artifact(run_id, str(source), artifact_path="blobs")
            uploaded = time.monotonic()
            (info,) = client.list_artifacts(run_id, "blobs")
            assert (info.path, info.file_size) == ("blobs/big.bin", SIZE)
            source.unlink()  # not needed any more: keep the disk footprint at 2 GiB
            downloaded_path = Path(client.download_artifacts(run_id, "blobs/big.bin", str(tmp_path / "dl")))
            downloaded = time.monotonic()
        assert downloaded_path.stat().st_size == SIZE
        assert sha256_of(downloaded_path) == expected
    finally:
        for leftover in (source, tmp_path / "dl" / "blobs" / "big.bin"):
            leftover.unlink(missing_ok=True)

    hwm_after = watch.high_water_marks()
    report = {pid: {"VmHWM before": round(hwm_before.get(pid, 0)), "VmHWM after": round(hwm_after[pid]),
                    "peak VmRSS during": round(watch.peak_rss.get(pid, 0))} for pid in watch.pids}
    print(f"generate {generated - started:.1f}s, upload {uploaded - generated:.1f}s, "
          f"download {downloaded - uploaded:.1f}s; memory MB per server process: {report}")
    for pid, mb in hwm_after.items():
        assert mb < MEMORY_LIMIT_MB, f"server process {pid} reached {mb:.0f} MB: {report}"
        assert watch.peak_rss.get(pid, 0) < MEMORY_LIMIT_MB, report
