"""The server helpers MLflow's server tests import, written for this runner.

`ServerThread` and `_init_server` are where the tests get their server: with OWN_TARGET=mlflow they
serve MLflow's app (in a thread, or `mlflow server` in a process); with an mltracker target they
hand out a freshly emptied `mltracker serve` instead.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import requests

import own_target
from tests.helper_functions import LOCALHOST, get_safe_port, kill_process_tree  # noqa: F401


def _await_server_up_or_die(port: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(2)
            if sock.connect_ex((LOCALHOST, port)) == 0:
                return
        time.sleep(0.3)
    raise RuntimeError(f"Failed to connect on {LOCALHOST}:{port} after {timeout} seconds")


class ServerThread:
    """`with ServerThread(app, port) as url`: MLflow's ASGI app in a uvicorn thread, or mltracker."""

    def __init__(self, app, port: int):
        self.app = app
        self.port = port
        self._server = None
        self._thread = None

    def __enter__(self) -> str:
        if own_target.is_mltracker():
            import os

            import mlflow

            url = own_target.fresh_mltracker_url()
            os.environ["MLFLOW_TRACKING_URI"] = url  # where MLflow's fixture leaves the test process
            mlflow.set_tracking_uri(url)
            return url
        import uvicorn

        config = uvicorn.Config(self.app, host=LOCALHOST, port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the in-process server did not start")
            time.sleep(0.05)
        return f"http://{LOCALHOST}:{self.port}"

    def __exit__(self, *exc):
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)


@contextmanager
def _init_server(backend_uri, root_artifact_uri, extra_env=None, server_type="flask"):
    """A server in a process of its own: `mlflow server`, or `mltracker serve` with the extra env."""
    import os
    import tempfile

    port = get_safe_port()
    if own_target.is_mltracker():
        with own_target.launch_mltracker(port, tempfile.mkdtemp(prefix="own-init-"), extra_env):
            yield f"http://{LOCALHOST}:{port}"
        return
    cmd = [*own_target.server_argv(), "--host", LOCALHOST, "--port", str(port),
           "--backend-store-uri", backend_uri, "--default-artifact-root", root_artifact_uri]
    proc = subprocess.Popen(cmd, env={**os.environ, **(extra_env or {})}, start_new_session=True)
    try:
        _await_server_up_or_die(port)
        yield f"http://{LOCALHOST}:{port}"
    finally:
        kill_process_tree(proc.pid)
        proc.wait(timeout=30)


def _send_rest_tracking_post_request(tracking_server_uri, api_path, json_payload, auth=None):
    return requests.post(f"{tracking_server_uri}{api_path}", json=json_payload, auth=auth)
