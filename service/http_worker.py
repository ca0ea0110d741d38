"""A gunicorn worker that slow clients cannot starve.

gunicorn's threaded worker gives a connection a thread as soon as its first byte arrives; a client
that then sends its headers (or a small body) a byte at a time keeps that thread for as long as it
likes, and a few dozen such clients hold every thread of every worker. This worker reads each
request's head, and a body up to BUFFER_LIMIT, in its event loop (non-blocking, no thread), and
hands the connection to a thread only once the request is complete. A larger body (an artifact
upload) is read by the thread, under a per-read idle timeout; the application refuses such a
request before reading it when it must (authentication, size), so an anonymous client cannot hold
a thread with it for longer than the refusal's bounded drain (request_body.settle_unread_body).
A head must arrive within `header_timeout` seconds and a buffered body within `body_timeout`;
otherwise the connection is closed. Connections per worker are capped by `worker_connections`.

A thread that has answered a kept-alive connection waits a moment (`linger_timeout`, only while
other threads are free) for that connection's next request and serves it itself when it arrives
whole: back-to-back small requests then cost no hand-offs between the loop and the threads.

The bytes read ahead go back into the connection's gunicorn parser, which then parses them as it
would have parsed them from the socket. TLS-terminating configurations keep gunicorn's own flow.
"""
from __future__ import annotations

import errno
import select
import selectors
import socket
import threading
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

BUFFER_LIMIT = 256 * 1024
# The request line and headers together; a larger head is answered 431 here, before any thread or
# parser sees it (gunicorn's own line and field limits are raised to match, see server.py).
HEAD_LIMIT = 64 * 1024
_END_OF_HEAD = b"\r\n\r\n"
# How long a thread that just answered waits for the connection's next request before it hands
# the connection back to the event loop (only while other threads are free).
LINGER_S = 0.05
_REQUEST, _NOTHING, _PART, _CLOSED = "request", "nothing", "part", "closed"
# After a 431 the rest of the refused request is read and dropped (closing with unread bytes would
# reset the connection before the client reads the answer), for at most this long and this much.
DRAIN_S, DRAIN_LIMIT = 2.0, 1024 * 1024


def head_too_large(data: bytes) -> bool:
    """Whether the head in `data` (complete or not) is already longer than HEAD_LIMIT."""
    return len(data) > HEAD_LIMIT and data.find(_END_OF_HEAD, 0, HEAD_LIMIT + len(_END_OF_HEAD)) < 0


def oversized_head_response() -> bytes:
    from mltracker.service.api.errors import oversized_head_body

    body = oversized_head_body(HEAD_LIMIT)
    return (b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def _answer_431_and_drain(sock) -> None:
    """In a thread (blocking socket): the 431, then what the client still sends, bounded."""
    try:
        sock.sendall(oversized_head_response())
        sock.shutdown(socket.SHUT_WR)
        deadline, drained = time.monotonic() + DRAIN_S, 0
        while drained <= DRAIN_LIMIT and (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                break
            drained += len(chunk)
    except OSError:
        pass


def request_complete(data: bytes) -> bool | None:
    """True once `data` holds a whole request (head and body), or the head of a request whose body
    is larger than BUFFER_LIMIT (a chunked one: once BUFFER_LIMIT bytes of it are here); False
    while more is needed; None when the head cannot be parsed here (gunicorn's parser answers)."""
    end = data.find(_END_OF_HEAD)
    if end < 0:
        return None if len(data) > HEAD_LIMIT else False
    head, body = data[:end], data[end + len(_END_OF_HEAD):]
    length, chunked = _framing(head)
    if chunked:
        return len(body) >= BUFFER_LIMIT or _chunked_body_complete(body)
    if length is None:
        return None
    return length > BUFFER_LIMIT or len(body) >= length


def _framing(head: bytes) -> tuple[int | None, bool]:
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None, False
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return length, chunked


def _chunked_body_complete(body: bytes) -> bool:
    """Whether the chunked body (and its trailer section) has fully arrived."""
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return False
        try:
            size = int(body[position:line_end].split(b";", 1)[0].strip() or b"x", 16)
        except ValueError:
            return True  # malformed: let gunicorn's parser refuse it
        position = line_end + 2
        if size == 0:
            return body.find(b"\r\n\r\n", line_end) >= 0 or body.endswith(b"\r\n", position)
        position += size + 2
        if position > len(body):
            return False


class _Reading:
    __slots__ = ("conn", "data", "deadline", "head_seen", "drained")

    def __init__(self, conn, data: bytes, deadline: float):
        self.conn = conn
        self.data = data
        self.deadline = deadline
        self.head_seen = False
        self.drained: int | None = None  # bytes dropped since a 431, None before one


class BufferingThreadWorker(ThreadWorker):
    """gthread, with each request read in the event loop before a thread takes it."""

    header_timeout = 15.0
    body_timeout = 60.0
    idle_timeout = 60.0
    linger_timeout = LINGER_S

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading: dict[int, _Reading] = {}
        self._linger_lock = threading.Lock()
        self._lingering = 0

    # ---------------------------------------------------------------- entry points

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        if self.cfg.is_ssl:
            self.enqueue_req(conn)  # gunicorn's own flow: the handshake happens in the thread
            return
        conn.init()  # plain HTTP/1.x: only creates the parser
        self._start_reading(conn, b"")

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection has its next request coming: read it here too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        if self.cfg.is_ssl or conn.is_http2:
            self.enqueue_req(conn)
            return
        self._start_reading(conn, conn.parser.unreader.take_buffered())

    # ---------------------------------------------------------------- reading in the loop

    def _start_reading(self, conn, already: bytes) -> None:
        conn.sock.setblocking(False)
        reading = _Reading(conn, already, time.monotonic() + self.header_timeout)
        if self._advance(reading):
            return
        self.reading[id(conn)] = reading
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, reading))

    def _on_readable(self, reading: _Reading, _sock) -> None:
        try:
            data = reading.conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(reading)
            return
        if reading.drained is not None:
            reading.drained += len(data)
            if reading.drained > DRAIN_LIMIT:
                self._drop(reading)
            return
        reading.data += data
        if self._advance(reading) and reading.drained is None:
            self.reading.pop(id(reading.conn), None)
            self.poller.unregister(reading.conn.sock)

    def _advance(self, reading: _Reading) -> bool:
        """Hand the connection to a thread if its request is ready, or refuse a head that is too
        large; True when the connection has left the loop's reading either way."""
        if head_too_large(reading.data):
            self._refuse_oversized_head(reading)
            return True
        complete = request_complete(reading.data)
        if complete is False:
            if not reading.head_seen and _END_OF_HEAD in reading.data:
                reading.head_seen = True
                reading.deadline = time.monotonic() + self.body_timeout
            return False
        conn = reading.conn
        conn.parser.unreader.unread(reading.data)
        conn.data_ready = True
        self.enqueue_req(conn)
        return True

    def _refuse_oversized_head(self, reading: _Reading) -> None:
        """Answer 431 and keep dropping what the client still sends until it closes (bounded)."""
        sock = reading.conn.sock
        try:
            sock.send(oversized_head_response())  # small: fits any socket buffer
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._drop(reading)
            return
        reading.data, reading.drained = b"", 0
        reading.deadline = time.monotonic() + DRAIN_S
        if id(reading.conn) not in self.reading:
            self.reading[id(reading.conn)] = reading
            self.poller.register(sock, selectors.EVENT_READ, partial(self._on_readable, reading))

    def _drop(self, reading: _Reading) -> None:
        if self.reading.pop(id(reading.conn), None) is not None:
            try:
                self.poller.unregister(reading.conn.sock)
            except (KeyError, ValueError, OSError):
                pass
        self.nr_conns -= 1
        reading.conn.close()

    def murder_keepalived(self):
        if not self.alive:
            # Shutting down: a connection waiting for its next request has nothing in flight, so
            # it is closed now rather than when its keep-alive time or the graceful timeout ends.
            for conn in self.keepalived_conns:
                conn.timeout = 0
        super().murder_keepalived()
        now = time.monotonic()
        for reading in [r for r in self.reading.values() if r.deadline < now or (not self.alive and not r.data)]:
            self._drop(reading)

    # ---------------------------------------------------------------- threads

    def handle(self, conn):
        """gthread's handle, and then, while the pool has threads to spare, the connection's next
        request in the same thread if it arrives within `linger_timeout`: a client that sends one
        small request after another (a training loop's `log_metric` per step) is then served
        without the two thread hand-offs (loop → thread, thread → loop) each request otherwise
        costs. What has not fully arrived by then goes back to the loop, as before."""
        keepalive = super().handle(conn)
        while keepalive is True and self.alive and not self.cfg.is_ssl and not conn.is_http2 \
                and self._start_lingering():
            try:
                arrived = self._next_request(conn)
            finally:
                self._stop_lingering()
            if arrived is _CLOSED:
                return False
            if arrived is _NOTHING and not self.alive:
                conn.close()  # shutting down: an idle connection ends at once (see murder_keepalived)
                return False
            if arrived is not _REQUEST:
                return True
            keepalive = super().handle(conn)
        return keepalive

    def _start_lingering(self) -> bool:
        with self._linger_lock:
            # One thread always stays free for new connections, and nothing may wait in the queue.
            if self._lingering >= self.cfg.threads - 1 or self.tpool._work_queue.qsize():
                return False
            self._lingering += 1
            return True

    def _stop_lingering(self) -> None:
        with self._linger_lock:
            self._lingering -= 1

    def _next_request(self, conn) -> str:
        """_REQUEST once a whole request (see request_complete) is buffered in the connection's
        parser; _NOTHING or _PART when the time ran out (what arrived is put back for the loop);
        _CLOSED when the client closed the connection."""
        data = conn.parser.unreader.take_buffered()
        deadline = time.monotonic() + self.linger_timeout
        poller = select.poll()
        poller.register(conn.sock, select.POLLIN)
        while request_complete(data) is False and not head_too_large(data):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                conn.parser.unreader.unread(data)
                return _PART if data else _NOTHING
            try:
                chunk = conn.sock.recv(65536, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return _CLOSED
            if not chunk:
                return _CLOSED
            data += chunk
        if head_too_large(data):
            _answer_431_and_drain(conn.sock)
            return _CLOSED
        conn.parser.unreader.unread(data)
        conn.data_ready = True
        return _REQUEST

    def handle_request(self, req, conn):
        # gunicorn made the socket blocking without a timeout; what the application still reads
        # (a body larger than the buffer) or writes gets an idle limit instead.
        conn.sock.settimeout(self.idle_timeout)
        # gunicorn sends a response's head and its body in separate writes; a small answer then
        # leaves in two packets and the client wakes up twice. Corked, the kernel sends full
        # packets only, and the rest when uncorked at the end of the response.
        corked = _cork(conn.sock, True)
        try:
            return super().handle_request(req, conn)
        finally:
            if corked:
                _cork(conn.sock, False)


def _cork(sock, on: bool) -> bool:
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if on else 0)
        return True
    except OSError:  # not TCP (a UNIX socket), or already closed
        return False

