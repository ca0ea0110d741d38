"""A reverse proxy in front of the source server that pauses before every request, so that a
signal sent once the first run is done lands while the import is still copying (on a fast
machine the whole import can otherwise finish before the signal arrives). The resume goes
through the same URL (the import's progress is kept per source URL), with the pause lifted."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "host", "content-length"}


class SlowSource:
    def __init__(self, pause_s: float):
        self.url = ""
        self.pause_s = pause_s


def _proxy_app(upstream: str, slow: SlowSource):
    session = requests.Session()

    @Request.application
    def app(request: Request) -> Response:
        time.sleep(slow.pause_s)
        answer = session.request(
            request.method, upstream + request.full_path.rstrip("?"), data=request.get_data(),
            headers={k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP},
            stream=True, timeout=120)
        headers = [(k, v) for k, v in answer.raw.headers.items() if k.lower() not in HOP_BY_HOP]
        return Response(answer.raw.stream(64 * 1024, decode_content=False), status=answer.status_code,
                        headers=headers, direct_passthrough=True)

    return app


@contextmanager
def slowed(upstream_url: str, pause_s: float = 0.2):
    """A proxy to `upstream_url` that waits `pause_s` (settable) before each request."""
    slow = SlowSource(pause_s)
    server = make_server("127.0.0.1", 0, _proxy_app(upstream_url.rstrip("/"), slow), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="slow-source", daemon=True)
    thread.start()
    try:
        slow.url = f"http://127.0.0.1:{server.server_port}"
        yield slow
    finally:
        server.shutdown()
        thread.join(timeout=10)
