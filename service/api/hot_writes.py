"""A training loop's one metric, param or tag per call, answered without Flask's request machinery.

Most training scripts call `log_metric` (or `log_param`, `set_tag`) once per step and wait for
the answer; per call, Flask's request context, URL matching, hooks and response object cost about
as much CPU as the write itself. This WSGI middleware sits in front of the app and answers the
successful plain case of those three routes itself, with the same steps in the same order: the
request's credential checked against the authorizer's cached decisions (GitLab mode), the body
read through the same message reader and field checks (runs.metric_request …), the same single
write (single_writes, via runs.store_param …), and the answer Flask would send, headers included
(captured from the app once).

Everything else is Flask's, unchanged: another route or method, a query string, cookies (a
browser), chunked or larger bodies, a credential with no cached allow (Flask asks GitLab and
caches the decision), and the cases the views send through write_batch (model metrics, the run's
name, gitlab.* tags). Any exception on the way is answered by the app's own error handlers and
after-request hooks, in a request context for this request, so refusals come out exactly as
Flask's (tests/api/test_hot_writes.py compares both paths).
"""
from __future__ import annotations

import io
import re

from flask import Flask

from mltracker.service.api import runs
from mltracker.service.api.client_watch import stop_watching, watch_client
from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import RequestMessage
from mltracker.service.auth.cache import NotCached
from mltracker.service.auth.credentials import credential_in
from mltracker.service.auth.flask_auth import EXTENSION as AUTHORIZER
from mltracker.service.auth.policy import required_level
from mltracker.service.context import Services
from mltracker.service.errors import MlflowError
from mltracker.service.tracking import single_writes

HOT_PATH = re.compile(
    r"(?:/projects/(?P<project>[0-9]{1,18}))?/(?:ajax-)?api/2\.0/mlflow/runs/"
    r"(?P<route>log-metric|log-parameter|set-tag)"
)
# A training loop's call is a few hundred bytes; a larger body takes Flask's path.
HOT_BODY_LIMIT = 64 * 1024
_DIGITS = re.compile(r"[0-9]{1,9}")


class _Refer(Exception):
    """This request is Flask's after all (the view would take the general path)."""


class HotWrites:
    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.services: Services = app.extensions["mltracker"]
        self.authorizer = app.extensions.get(AUTHORIZER)
        self.local_mode = bool(app.config["MLTRACKER_LOCAL_MODE"])
        self.body_limit = app.config["MAX_CONTENT_LENGTH"]
        self._ok: tuple[str, list[tuple[str, str]], bytes] | None = None
        self._writes = {"log-metric": self._log_metric, "log-parameter": self._log_param,
                        "set-tag": self._set_tag}

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING") \
                or "HTTP_COOKIE" in environ or "HTTP_TRANSFER_ENCODING" in environ:
            return self.wsgi_app(environ, start_response)
        match = HOT_PATH.fullmatch(environ.get("PATH_INFO", ""))
        length = environ.get("CONTENT_LENGTH", "")
        if match is None or not _DIGITS.fullmatch(length) or int(length) > HOT_BODY_LIMIT:
            return self.wsgi_app(environ, start_response)
        project = match["project"]
        if project is None and not self.local_mode:
            return self.wsgi_app(environ, start_response)  # GitLab mode serves the API per project only
        project_id = int(project) if project is not None else 0
        if self.authorizer is not None and not self._allowed(environ, project_id):
            return self.wsgi_app(environ, start_response)
        body = _read(environ["wsgi.input"], int(length))
        environ["wsgi.input"] = io.BytesIO(body)  # whoever answers instead reads the same bytes
        if len(body) < int(length):  # the client went away mid-body: Flask's stream says how
            return self.wsgi_app(environ, start_response)
        watch_client(environ)
        try:
            message = RequestMessage.from_body(body, self.body_limit)
            self._writes[match["route"]](message, project_id)
        except _Refer:
            return self.wsgi_app(environ, start_response)
        except Exception as exc:  # noqa: BLE001 - answered by the app's handlers, as Flask would
            return self._flask_error(environ, start_response, exc)
        finally:
            stop_watching()
        status, headers, payload = self._ok or self._ok_answer(environ)
        start_response(status, list(headers))
        return [payload]

    def _allowed(self, environ, project_id: int) -> bool:
        """Whether the authorizer's cached decisions already allow this request."""
        credential = credential_in(_Headers(environ))
        if credential is None:
            return False
        try:
            self.authorizer.authorize(credential, project_id, required_level("POST", environ["PATH_INFO"]),
                                      cached_only=True)
        except (NotCached, MlflowError):
            return False
        return True

    # ---------------------------------------------------------------- the three writes

    def _log_metric(self, message: RequestMessage, project_id: int) -> None:
        batch, model_point = runs.metric_request(message)
        if model_point is not None:
            raise _Refer()
        single_writes.log_metric(self.services.db, project_id, batch)

    def _log_param(self, message: RequestMessage, project_id: int) -> None:
        runs.store_param(self.services.db, project_id, runs.param_request(message))

    def _set_tag(self, message: RequestMessage, project_id: int) -> None:
        item, batch = runs.tag_request(message)
        if not runs.plain_tag(item):
            raise _Refer()
        runs.store_plain_tag(self.services.db, project_id, batch)

    # ---------------------------------------------------------------- answers

    def _ok_answer(self, environ) -> tuple[str, list[tuple[str, str]], bytes]:
        """The app's answer to a successful write, after its after-request hooks, made once."""
        with self.app.request_context(dict(environ, **{"wsgi.input": io.BytesIO(b"")})):
            response = self.app.process_response(json_response({}))
            self._ok = (response.status, response.get_wsgi_headers(environ).to_wsgi_list(), response.get_data())
        return self._ok

    def _flask_error(self, environ, start_response, exc: Exception):
        with self.app.request_context(environ):
            response = self.app.make_response(self.app.handle_user_exception(exc))
            response = self.app.process_response(response)
            return response(environ, start_response)


class _Headers:
    """Request headers by name, straight from the WSGI environ (credential_in's reads)."""

    __slots__ = ("environ",)

    def __init__(self, environ):
        self.environ = environ

    def get(self, name: str, default: str = "") -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), default)


def _read(stream, length: int) -> bytes:
    chunks, remaining = [], length
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def install_hot_writes(app: Flask) -> None:
    """In front of everything else the app's WSGI callable does (call last in the factory)."""
    app.wsgi_app = HotWrites(app, app.wsgi_app)
