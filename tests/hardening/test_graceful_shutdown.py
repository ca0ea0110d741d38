"""Stopping the server (SIGTERM, as an orchestrator does) closes idle kept-alive connections at once
instead of waiting out the graceful timeout (10 s) for requests that will never come."""
import subprocess
import sys
import time

import requests

from tests.conftest import free_port, wait_for_http

GRACEFUL_TIMEOUT_S = 10


def test_sigterm_with_an_idle_keep_alive_client_does_not_wait_for_the_graceful_timeout(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mltracker.service.cli", "serve", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path}/m.db", "--artifacts-destination", str(tmp_path / "a")],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", proc=proc)
        with requests.Session() as idle:  # one request, then the connection stays open, idle
            assert idle.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
            proc.terminate()
            # a bound below the graceful timeout: an idle connection must not hold the shutdown
            assert proc.wait(timeout=GRACEFUL_TIMEOUT_S - 3) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
