"""Tells the database layer when the client of the current request has hung up, so a statement
running for nobody is stopped (service.db.deadlines)."""
from __future__ import annotations

import socket

from flask import Flask, request

from mltracker.service.db.deadlines import set_client_check


def peer_closed(sock: socket.socket) -> bool:
    """True once the peer has closed its side: the socket reads end-of-file without blocking.
    Unread request bytes (a body or a pipelined request) mean the client is still there."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def watch_client(environ: dict) -> None:
    """From now on in this thread, the database layer asks whether this request's client is still there."""
    sock = environ.get("gunicorn.socket")
    set_client_check((lambda: peer_closed(sock)) if isinstance(sock, socket.socket) else None)


def stop_watching() -> None:
    set_client_check(None)


def install_client_watch(app: Flask) -> None:
    @app.before_request
    def _watch_client():
        watch_client(request.environ)

    @app.teardown_request
    def _stop_watching(_exc):
        stop_watching()
