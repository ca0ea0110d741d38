"""Running the app under gunicorn: N worker processes, each with its own app and connection pool."""
from __future__ import annotations

import logging

from gunicorn.app.base import BaseApplication

from mltracker.service.settings import Settings

log = logging.getLogger("mltracker")
THREADS_PER_WORKER = 8


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self):
        from mltracker.service.http_worker import HEAD_LIMIT

        self.cfg.set("bind", f"{self.settings.host}:{self.settings.port}")
        self.cfg.set("workers", max(1, self.settings.workers))
        self.cfg.set("worker_class", configured_worker(self.settings))
        self.cfg.set("threads", THREADS_PER_WORKER)
        self.cfg.set("worker_connections", self.settings.http_max_connections)
        self.cfg.set("timeout", 600)  # large artifact uploads stream for a while
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("keepalive", 5)
        # gunicorn believes X-Forwarded-Proto from 127.0.0.1 by default; proxies are trusted only
        # through MLTRACKER_TRUSTED_PROXY_HOPS (ProxyFix in the app factory).
        self.cfg.set("forwarded_allow_ips", "")
        self.cfg.set("secure_scheme_headers", {})
        # The worker bounds the whole head (HEAD_LIMIT, answered 431); gunicorn's own request-line
        # ceiling (at most 8,190 bytes unless 0, unlimited) would refuse first the ~15 KB query
        # strings MLflow's clients send (1,000 run ids: the API's own 400 is the answer due), and
        # one header as long as the head limit passes too.
        self.cfg.set("limit_request_line", 0)
        self.cfg.set("limit_request_field_size", HEAD_LIMIT)

    def load(self):
        from mltracker.service.app import create_app

        # The schema was upgraded by the CLI before the workers started.
        return honour_connection_close(create_app(self.settings, upgrade_schema=False))


def configured_worker(settings: Settings) -> type:
    from mltracker.service.http_worker import BufferingThreadWorker

    return type("MltrackerWorker", (BufferingThreadWorker,), {
        "header_timeout": settings.http_header_timeout,
        "body_timeout": settings.http_body_timeout,
        "idle_timeout": settings.http_idle_timeout,
    })


def honour_connection_close(app):
    """gunicorn drops an application's `Connection: close` header (hop-by-hop) and keeps the
    connection alive regardless; the application says it when it left a request body unread (see
    request_body.settle_unread_body). This tells gunicorn's response object to close."""

    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
                response = getattr(start_response, "__self__", None)
                if hasattr(response, "force_close"):
                    response.force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped


def run_server(settings: Settings) -> None:
    log.info(
        "mltracker serving on http://%s:%s (store %s, artifacts %s, %d workers)",
        settings.host, settings.port, _redact(settings.backend_store_uri), settings.artifacts_destination,
        settings.workers,
    )
    _Gunicorn(settings).run()


def _redact(uri: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URI>"
