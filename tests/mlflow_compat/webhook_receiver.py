"""A real HTTP receiver for webhook deliveries: records every request (headers, raw body) per path,
and answers each path with the statuses it was told (then 200), so retries can be observed."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        """The check MLflow documents for receivers: HMAC-SHA256 over "<delivery id>.<timestamp>.<body>"."""
        signed = f"{self.headers['x-mlflow-delivery-id']}.{self.headers['x-mlflow-timestamp']}.".encode() + self.body
        expected = "v1," + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, self.headers.get("x-mlflow-signature", ""))


class Receiver:
    def __init__(self):
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._answers: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 1_000_000))
                with receiver._lock:
                    receiver._received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    queued = receiver._answers.get(self.path) or []
                    status = queued.pop(0) if queued else 200
                reply = json.dumps({"received": self.path, "status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, *statuses: int) -> None:
        with self._lock:
            self._answers[path] = list(statuses)

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self._received if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 60.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.at(path)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{path}: {len(self.at(path))} deliveries within {timeout}s, expected {count}")
