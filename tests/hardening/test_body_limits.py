"""Body size limits hold however the body is framed: a chunked body is read only up to the limit
(streamed, never buffered whole) and answered 413 in MLflow's error shape, like a too-long
Content-Length."""
from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest

from tests.conftest import S3_ENV, run_mltracker

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024
CREATE = "/api/2.0/mlflow/experiments/create"
UPLOAD = "/api/2.0/mlflow-artifacts/artifacts/0/limits/{name}"


class _Sent:
    def __init__(self):
        self.bytes = 0
        self.finished = False


def _exchange_while_sending(url: str, head: bytes, body_chunks, chunked: bool):
    """Send the request from a thread while this one reads the answer; returns (status, headers,
    payload, bytes of body sent when the answer had arrived, whether the sender had finished)."""
    host, port = url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=60)
    sent = _Sent()

    def send():
        try:
            sock.sendall(head)
            for chunk in body_chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                sent.bytes += len(chunk)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
            sent.finished = True
        except OSError:
            pass  # the server closed after answering: expected for oversized bodies

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        response = http.client.HTTPResponse(sock)
        response.begin()
        sent_when_answered, finished = sent.bytes, sent.finished
        payload = response.read()
        return response.status, response, payload, sent_when_answered, finished
    finally:
        sock.close()
        sender.join(timeout=30)


def _chunks(total: int, size: int = 64 * 1024, fill: bytes = b" "):
    for offset in range(0, total, size):
        yield fill * min(size, total - offset)


def _json_head(path: str, chunked: bool, length: int = 0) -> bytes:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n\r\n".encode()


def _assert_413(status, payload):
    assert status == 413, payload[:300]
    error = json.loads(payload)
    assert error["error_code"] == "INVALID_PARAMETER_VALUE" and "larger than" in error["message"]


@pytest.mark.timeout(120)
def test_a_huge_chunked_json_body_is_cut_at_the_limit(live_server):
    total = 256 * MiB
    body = (b'{"name": "' + b"x" * (2 * MiB), *_chunks(total))
    status, _, payload, sent, finished = _exchange_while_sending(
        live_server.url, _json_head(CREATE, chunked=True), body, chunked=True)
    _assert_413(status, payload)
    assert not finished and sent < 64 * MiB, "the server read far past its limit before answering"


@pytest.mark.timeout(60)
def test_a_too_long_content_length_is_refused_before_reading(live_server):
    status, response, payload, sent, _ = _exchange_while_sending(
        live_server.url, _json_head(CREATE, chunked=False, length=400 * MiB), iter(()), chunked=False)
    _assert_413(status, payload)
    assert response.will_close


def test_chunked_json_under_the_limit_still_works(live_server):
    body = json.dumps({"name": f"chunked-{id(object())}"}).encode()
    status, _, payload, _, _ = _exchange_while_sending(
        live_server.url, _json_head(CREATE, chunked=True), [body], chunked=True)
    assert status == 200, payload
    assert "experiment_id" in json.loads(payload)


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-s3"])
def limited_server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limited")
    env = {"MLTRACKER_MAX_ARTIFACT_UPLOAD": str(MiB), "MLTRACKER_MAX_REQUEST_BODY": str(MiB)}
    if request.param == "sqlite-local":
        with run_mltracker(tmp, f"sqlite:///{tmp}/m.db", str(tmp / "artifacts"), extra_env=env) as server:
            yield server
    else:
        pg, s3 = request.getfixturevalue("pg_url"), request.getfixturevalue("s3_server")
        env.update({**S3_ENV, "MLFLOW_S3_ENDPOINT_URL": s3.endpoint})
        with run_mltracker(tmp, pg, f"s3://{s3.bucket}/limited", extra_env=env) as server:
            yield server


def _put_head(name: str, chunked: bool, length: int = 0) -> bytes:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    return (f"PUT {UPLOAD.format(name=name)} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/octet-stream\r\n{framing}\r\n\r\n").encode()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_artifact_uploads_have_their_own_limit_both_ways(limited_server, chunked):
    import requests

    name = f"big-{'chunked' if chunked else 'length'}.bin"
    status, _, payload, _, _ = _exchange_while_sending(
        limited_server.url, _put_head(name, chunked, 8 * MiB), _chunks(8 * MiB, fill=b"a"), chunked)
    _assert_413(status, payload)
    listing = requests.get(limited_server.url + "/api/2.0/mlflow-artifacts/artifacts",
                           params={"path": "0/limits"}, timeout=30).json()
    assert name not in [f["path"] for f in listing.get("files", [])]
    small = f"small-{'chunked' if chunked else 'length'}.bin"
    status, _, payload, _, _ = _exchange_while_sending(
        limited_server.url, _put_head(small, chunked, MiB // 2), _chunks(MiB // 2, fill=b"b"), chunked)
    assert status == 200, payload
    assert requests.get(limited_server.url + UPLOAD.format(name=small), timeout=30).content == b"b" * (MiB // 2)


@pytest.mark.timeout(60)
def test_the_json_limit_is_configurable(limited_server):
    body = (b'{"name": "', *_chunks(2 * MiB, fill=b"n"), b'"}')
    status, _, payload, _, _ = _exchange_while_sending(
        limited_server.url, _json_head(CREATE, chunked=True), body, chunked=True)
    _assert_413(status, payload)


