"""Slow clients cannot starve the server: with 256 connections sending their requests a byte at a
time (headers, or a small body after complete headers), /health and an API read still answer, and
a head that does not arrive in time has its connection closed. One worker process (8 threads), so
every slow connection lands on the threads that must keep serving."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.conftest import run_mltracker

pytestmark = pytest.mark.e2e
SLOW_CONNECTIONS = 256


class _Tricklers:
    def __init__(self, url: str, count: int):
        host, port = url.split("//")[1].split(":")
        self.address = (host, int(port))
        self.sockets: list[list] = []
        body = b'{"name": "' + b"s" * 900 + b'"}'
        for i in range(count):
            sock = socket.create_connection(self.address, timeout=10)
            if i % 2:
                sock.sendall(b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
                self.sockets.append([sock, body])
            else:
                self.sockets.append([sock, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"h" * 900 + b"\r\n\r\n"])
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self):
        while not self.stop.wait(0.5):
            for item in self.sockets:
                if item[1]:
                    try:
                        item[0].send(item[1][:1])
                        item[1] = item[1][1:]
                    except OSError:
                        item[1] = b""

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)
        for sock, _ in self.sockets:
            sock.close()


@pytest.mark.timeout(180)
def test_health_and_reads_answer_while_slow_clients_hold_connections(tmp_path):
    with run_mltracker(tmp_path, f"sqlite:///{tmp_path}/m.db", str(tmp_path / "artifacts"), workers=1) as server:
        slow = _Tricklers(server.url, SLOW_CONNECTIONS)
        try:
            time.sleep(7)  # past gunicorn's 5 s wait for a first byte: every slow client is sending
            for _ in range(5):
                assert requests.get(server.url + "/health", timeout=10).text == "OK"
                search = requests.get(server.url + "/api/2.0/mlflow/experiments/search",
                                      params={"max_results": 10}, timeout=10)
                assert search.status_code == 200, search.text
        finally:
            slow.close()


@pytest.mark.timeout(120)
def test_a_head_that_does_not_arrive_in_time_is_closed(tmp_path):
    env = {"MLTRACKER_HTTP_HEADER_TIMEOUT": "2"}
    with run_mltracker(tmp_path, f"sqlite:///{tmp_path}/m.db", str(tmp_path / "artifacts"),
                       extra_env=env, workers=1) as server:
        host, port = server.url.split("//")[1].split(":")
        sock = socket.create_connection((host, int(port)), timeout=30)
        try:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            assert sock.recv(100) == b""  # closed by the server, well before this 30 s timeout
        finally:
            sock.close()
