"""A TCP proxy in front of a real server that can freeze: it keeps every connection open and
accepts new ones, but passes nothing on, as a hung server (or a lost network) looks to a client."""
from __future__ import annotations

import selectors
import socket
import threading


class FreezableProxy:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.frozen = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self._sockets + [self._listener]:
            sock.close()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, None)
        while not self._stop.is_set():
            for key, _ in selector.select(timeout=0.1):
                if key.data is None:
                    client, _ = self._listener.accept()
                    self._sockets.append(client)
                    if self.frozen.is_set():
                        continue  # accepted, never answered
                    upstream = socket.create_connection(self.target)
                    self._sockets.append(upstream)
                    selector.register(client, selectors.EVENT_READ, upstream)
                    selector.register(upstream, selectors.EVENT_READ, client)
                elif not self.frozen.is_set() and key.fileobj.fileno() != -1:
                    try:
                        data = key.fileobj.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        try:
                            key.data.sendall(data)
                            continue
                        except OSError:
                            pass
                    for sock in (key.fileobj, key.data):
                        try:
                            selector.unregister(sock)
                        except (KeyError, ValueError):
                            pass
                        sock.close()
