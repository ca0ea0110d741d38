"""An HTTP adapter whose connections acknowledge each answer at once (Linux's TCP_QUICKACK).

`mlflow server` (uvicorn) writes a small answer's headers and body in two sends on a socket
without TCP_NODELAY, so the body waits until the client has acknowledged the headers; on a
kept-alive connection Linux delays that acknowledgement by up to 40 ms. Each listing, search or
small file then took ~40 ms for a few milliseconds of work. Asking for an immediate acknowledgement once
a request is sent, before its answer is read, removes the wait (the flag does not persist: the
kernel drops it as the connection goes on, hence on every request). Elsewhere it is a no-op.
"""
from __future__ import annotations

import socket

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def acknowledge_at_once(sock) -> None:
    if _QUICKACK is None or sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    except (OSError, AttributeError):  # not a TCP socket (a TLS tunnel through a proxy…)
        pass


class _QuickAckHTTPConnection(HTTPConnection):
    def getresponse(self):
        acknowledge_at_once(self.sock)
        return super().getresponse()


class _QuickAckHTTPSConnection(HTTPSConnection):
    def getresponse(self):
        acknowledge_at_once(self.sock)
        return super().getresponse()


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _QuickAckHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _QuickAckHTTPSConnection


class QuickAckAdapter(HTTPAdapter):
    """requests' adapter, its direct connections acknowledging answers at once."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
