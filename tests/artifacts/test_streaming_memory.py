"""A large artifact streams through the server: its memory must not grow with the artifact's size."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ART = "/api/2.0/mlflow-artifacts"
MB = 1024 * 1024
SIZE_MB = int(os.environ.get("MLTRACKER_TEST_ARTIFACT_MB", "300"))  # 1024 for the 1 GB check
# Far below the artifact: one S3 part (10 MB) plus buffers, interpreter and allocator slack.
MAX_GROWTH_MB = 80
REPO = Path(__file__).resolve().parents[2]


def memory_kb(pid: int) -> dict:
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


@pytest.fixture
def memory_server(destination, tmp_path):
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs /proc to read the server's peak memory")
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("memory_server.py")),
         f"sqlite:///{tmp_path}/db.sqlite", destination.uri],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        port = int(proc.stdout.readline())
        yield proc.pid, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


class SizedGenerator:
    """A file-like body of `size` bytes made on the fly; requests sends it with a Content-Length."""

    def __init__(self, size: int):
        self.size = size
        self.sent = 0
        self.block = os.urandom(MB)

    def __len__(self):
        return self.size - self.sent

    def read(self, n: int = -1) -> bytes:
        n = min(n if n and n > 0 else MB, MB, self.size - self.sent)
        self.sent += n
        return self.block[:n]


def chunked_body(size: int):
    block = os.urandom(MB)
    for _ in range(size // MB):
        yield block


@pytest.mark.slow
def test_large_upload_and_download_in_bounded_memory(memory_server, destination):
    pid, url = memory_server
    size = SIZE_MB * MB
    with requests.Session() as http:
        # Warm up every code path first, so the baseline includes imports and pools.
        for name in ("warm1", "warm2"):
            assert http.put(f"{url}{ART}/artifacts/0/r/artifacts/{name}", data=b"w" * (11 * MB)).status_code == 200
            assert http.get(f"{url}{ART}/artifacts/0/r/artifacts/{name}").status_code == 200
        baseline = memory_kb(pid)["VmRSS"]

        # Content-Length upload, the way the MLflow client sends a file.
        response = http.put(f"{url}{ART}/artifacts/0/r/artifacts/big.bin", data=SizedGenerator(size))
        assert response.status_code == 200, response.text
        # Chunked upload (no Content-Length).
        response = http.put(f"{url}{ART}/artifacts/0/r/artifacts/chunked.bin", data=chunked_body(size))
        assert response.status_code == 200, response.text

        listing = http.get(f"{url}{ART}/artifacts", params={"path": "0/r/artifacts"}).json()["files"]
        sizes = {f["path"]: f.get("file_size") for f in listing}
        assert sizes["big.bin"] == size and sizes["chunked.bin"] == size

        with http.get(f"{url}{ART}/artifacts/0/r/artifacts/big.bin", stream=True) as download:
            assert download.status_code == 200
            assert int(download.headers["Content-Length"]) == size
            received = sum(len(chunk) for chunk in download.iter_content(MB))
        assert received == size

    growth_mb = (memory_kb(pid)["VmHWM"] - baseline) / 1024
    print(f"server peak memory growth: {growth_mb:.1f} MB for {SIZE_MB} MB x 2 uploads + 1 download")
    assert growth_mb < MAX_GROWTH_MB, f"server peak memory grew by {growth_mb:.0f} MB for a {SIZE_MB} MB artifact"
