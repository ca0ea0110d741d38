"""A request body as a binary stream, read straight from the client's socket under gunicorn.

gunicorn's own body reader hands the body over 1 KiB at a time through several BytesIO copies,
which caps a 200 MB artifact upload at a few hundred MB/s. For a plain Content-Length body we take
whatever gunicorn has already buffered and then `recv_into` the caller's buffer, a megabyte per
call. Anything else (chunked bodies, other servers, the test client) goes through the WSGI stream.
"""
from __future__ import annotations

import io
import socket
import time
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from flask import request
from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

UNLIMITED = 2**63 - 1



class SocketBody(io.RawIOBase):
    """Exactly `length` bytes: first those gunicorn had read ahead, then from the socket."""

    def __init__(self, sock: socket.socket, buffered: bytes, length: int):
        self._sock = sock
        self._buffered = memoryview(buffered)
        self._remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._remaining <= 0:
            return 0
        view = memoryview(buffer).cast("B")[: self._remaining]
        if self._buffered:
            count = min(len(view), len(self._buffered))
            view[:count] = self._buffered[:count]
            self._buffered = self._buffered[count:]
        else:
            try:
                count = self._sock.recv_into(view)
            except TimeoutError:  # the worker's idle limit: the client stopped sending
                raise ClientDisconnected() from None
            if count == 0:
                raise ClientDisconnected()
        self._remaining -= count
        return count

    def give_back(self, reader) -> None:
        """Hand what was not read back to gunicorn, which drains it before the next request."""
        if self._buffered:
            reader.unreader.unread(bytes(self._buffered))
            self._buffered = memoryview(b"")
        reader.length = self._remaining
        self._remaining = 0


@contextmanager
def request_body() -> Iterator[BinaryIO]:
    """The current request's body; a SocketBody when gunicorn serves a Content-Length body.
    If the caller stops early (an error), the rest goes back to gunicorn, so a kept-alive
    connection never reads body bytes as the next request."""
    _apply_upload_limit()
    reader = _gunicorn_length_reader(request.environ)
    if reader is None:
        yield request.stream
        return
    body = _take(reader, request.environ["gunicorn.socket"])
    try:
        yield body
    finally:
        body.give_back(reader)


def _apply_upload_limit() -> None:
    from mltracker.service.context import services

    limit = services().settings.max_artifact_upload or UNLIMITED
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _gunicorn_length_reader(environ: dict):
    body, sock = environ.get("wsgi.input"), environ.get("gunicorn.socket")
    if type(body) is not Body or not isinstance(sock, socket.socket):
        return None
    reader = body.reader
    if type(reader) is not LengthReader or type(reader.unreader) is not SocketUnreader:
        return None
    if body.buf.tell() or not hasattr(reader.unreader, "take_buffered"):
        return None  # someone already started reading through gunicorn: stay on its path
    return reader


def _take(reader, sock: socket.socket) -> SocketBody:
    length = reader.length
    buffered = reader.unreader.take_buffered()
    if len(buffered) > length:  # a pipelined next request: leave it to gunicorn
        reader.unreader.unread(buffered[length:])
        buffered = buffered[:length]
    reader.length = 0  # ours now; give_back returns whatever is left
    return SocketBody(sock, buffered, length)


# A refused request's unread body is read and dropped up to this size, within this time, so the
# connection stays usable; beyond either, the connection is closed instead.
DRAIN_LIMIT = 1024 * 1024
DRAIN_SECONDS = 5.0


def settle_unread_body(response):
    """An after_request hook. A refusal (4xx/5xx) may be sent before the request's body was read
    (authentication, a size or header check). The rest of the body is still on its way; left
    unread, its bytes would be parsed as the next request. So the body is read and dropped when it
    is small and arrives promptly, and otherwise the response says `Connection: close` (which
    server.py makes gunicorn honour) and the connection ends after it."""
    if response.status_code >= 400 and _declares_body(request.environ) and not _drain(request.environ):
        response.headers["Connection"] = "close"
    return response


def _declares_body(environ: dict) -> bool:
    if environ.get("HTTP_TRANSFER_ENCODING"):
        return True
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return True


def _drain(environ: dict) -> bool:
    """Read the rest of the body; True when it ended within DRAIN_LIMIT bytes and DRAIN_SECONDS."""
    sock = environ.get("gunicorn.socket")
    # gunicorn's wsgi.input ends with the body; another server's (werkzeug's) may be the raw
    # connection, where a read past the body waits for bytes that never come: read through the
    # request's own length-bounded stream there.
    stream = environ.get("wsgi.input") if isinstance(sock, socket.socket) else request.stream
    if stream is None:
        return True
    deadline = time.monotonic() + DRAIN_SECONDS
    prior = sock.gettimeout() if isinstance(sock, socket.socket) else None
    drained = 0
    try:
        while drained <= DRAIN_LIMIT:
            if isinstance(sock, socket.socket):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                sock.settimeout(remaining)
            data = stream.read(64 * 1024)
            if not data:
                return True
            drained += len(data)
        return False
    except (OSError, ValueError, ClientDisconnected):
        return False
    finally:
        if isinstance(sock, socket.socket):
            try:
                sock.settimeout(prior)
            except OSError:
                pass
