"""A response sent before the request's body was read (401 from authentication, or a request
refused on its headers) must leave the connection consistent: either the server reads the rest of
the body or it says `Connection: close` and closes. A request the client then sends on a
connection left open is answered, every time."""
from __future__ import annotations

import http.client
import io
import json
import socket

import pytest

from tests.conftest import run_mltracker
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.gitlab_support import BOT_TOKEN, BOT_USER_ID, gitlab_env

pytestmark = pytest.mark.e2e
ROUNDS = 150


@pytest.fixture(scope="module")
def gitlab_mode_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keepalive")
    with FakeGitLab() as fake:
        fake.add_user(id=BOT_USER_ID, username="mltracker-bot", admin=True)
        fake.add_token(token=BOT_TOKEN, user_id=BOT_USER_ID)
        with run_mltracker(tmp, f"sqlite:///{tmp}/m.db", str(tmp / "artifacts"),
                           extra_env=gitlab_env(fake)) as server:
            yield server


class _KeepOpen(io.BufferedReader):
    def close(self):  # http.client closes its file after each response; the next one follows
        pass


class _OneFile:
    def __init__(self, sock: socket.socket):
        self.file = _KeepOpen(socket.SocketIO(sock, "rb"))

    def makefile(self, *_args, **_kwargs):
        return self.file


class _Conn:
    """One client connection, reading responses with http.client; reopened only when the server
    announced it would close."""

    def __init__(self, url: str):
        host, port = url.split("//")[1].split(":")
        self.address = (host, int(port))
        self.sock = None
        self.reader = None
        self.reopened = 0

    def exchange(self, raw: bytes) -> http.client.HTTPResponse:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=30)
            self.reader = _OneFile(self.sock)
        self.sock.sendall(raw)
        response = http.client.HTTPResponse(self.reader)
        response.begin()
        response.read()
        if response.will_close:
            self.close()
            self.reopened += 1
        return response

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _post(path: str, body: bytes, chunked: bool = False) -> bytes:
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:1000], body[1000:]) if part)
        return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Transfer-Encoding: chunked\r\n\r\n").encode() + framed + b"0\r\n\r\n"
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.timeout(300)
@pytest.mark.parametrize("size", [100, 20_000, 300_000])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_requests_after_an_unread_body_are_answered(gitlab_mode_server, size, chunked):
    body = json.dumps({"name": "x", "pad": "p" * size}).encode()
    post = _post("/projects/1/api/2.0/mlflow/experiments/create", body, chunked)
    get = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    conn = _Conn(gitlab_mode_server.url)
    try:
        for _ in range(ROUNDS):
            assert conn.exchange(post).status == 401
            assert conn.exchange(get).status == 200
    finally:
        conn.close()


@pytest.mark.timeout(120)
def test_a_body_that_does_not_arrive_gets_the_refusal_and_a_closed_connection(gitlab_mode_server):
    """Content-Length promises 10 MB, 512 KiB come and then nothing: the refusal still arrives,
    says the connection closes, and the next request goes out on a new connection."""
    head = (b"POST /projects/1/api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n")
    conn = _Conn(gitlab_mode_server.url)
    try:
        response = conn.exchange(head + b"{" + b" " * (512 * 1024 - 1))
        assert response.status == 401 and response.will_close
        assert conn.exchange(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").status == 200
        assert conn.reopened == 1
    finally:
        conn.close()
