"""A small answer leaves the server in one TCP segment, head and body together, so a client
waiting for it wakes up once (gunicorn writes the head and the body separately). Counted by the
client's kernel: tcp_info's tcpi_data_segs_in."""
from __future__ import annotations

import json
import socket
import struct
from urllib.parse import urlsplit

import pytest

from tests.conftest import run_mltracker

pytestmark = pytest.mark.e2e
ROUNDS = 30
_DATA_SEGS_IN = 152  # offset of tcpi_data_segs_in in Linux's struct tcp_info


def _data_segments_received(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return struct.unpack_from("I", info, _DATA_SEGS_IN)[0]


def _request(path: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


def test_head_and_body_of_a_small_answer_arrive_in_one_segment(tmp_path):
    with run_mltracker(tmp_path, f"sqlite:///{tmp_path}/m.db", str(tmp_path / "artifacts")) as server:
        url = urlsplit(server.url)
        with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
            def answer(path: str, body: dict) -> bytes:
                before = _data_segments_received(sock)
                sock.sendall(_request(path, body))
                data = b""
                while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
                    chunk = sock.recv(65536)
                    assert chunk, f"the server closed the connection: {data!r}"
                    data += chunk
                assert _data_segments_received(sock) - before == 1, data
                return data.partition(b"\r\n\r\n")[2]

            experiment = json.loads(answer("/api/2.0/mlflow/experiments/create", {"name": "one-piece"}))
            run = json.loads(answer("/api/2.0/mlflow/runs/create",
                                    {"experiment_id": experiment["experiment_id"]}))["run"]["info"]["run_id"]
            for step in range(ROUNDS):
                assert answer("/api/2.0/mlflow/runs/log-metric", {
                    "run_id": run, "key": "loss", "value": 0.5, "timestamp": 1, "step": step}) == b"{}"


def _length(data: bytes) -> int:
    head = data.partition(b"\r\n\r\n")[0]
    return int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
