"""The source server, read over MLflow's REST API the way the stock client reads it.

Credentials follow the client's conventions: MLFLOW_TRACKING_TOKEN (Bearer), or
MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (Basic); MLFLOW_TRACKING_INSECURE_TLS and
MLFLOW_TRACKING_SERVER_CERT_PATH as the client reads them. GitLab's built-in tracker
(`<gitlab>/api/v4/projects/<id>/ml/mlflow`) is the same API with fewer routes: a route it does
not offer answers 404, which callers of the optional listings treat as "nothing there".
Transient failures (connection errors, 429, 5xx) are retried with backoff.
"""
from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import orjson
import requests
from requests.utils import get_environ_proxies, get_netrc_auth

from mltracker.service.importer.quick_ack import QuickAckAdapter

RETRIES = 5
RETRY_STATUSES = {429, 500, 502, 503, 504}
TIMEOUT_S = 120
STREAM_CHUNK = 1024 * 1024


class SourceError(RuntimeError):
    def __init__(self, message: str, status: int | None = None, error_code: str | None = None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class RouteUnavailable(SourceError):
    """The source does not offer this route (404 without an MLflow error body)."""


@dataclass(frozen=True)
class ArtifactEntry:
    path: str  # relative to the listed root
    is_dir: bool
    size: int | None


def display_uri(uri: str) -> str:
    """The source URI without credentials, for logs and the progress ledger."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _request_key(method: str, path: str, kwargs: dict) -> tuple:
    return method, path.lstrip("/"), json.dumps(kwargs, sort_keys=True, default=str)


def decoded(response: requests.Response):
    """The JSON body. orjson reads it at a fraction of the standard parser's cost, but refuses the
    NaN and Infinity literals MLflow writes for such metric values: those bodies take the standard
    parser."""
    body = response.content
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except ValueError:
            raise SourceError(f"{response.request.method} {display_uri(response.url)}: the answer is not JSON",
                              response.status_code) from None


class SourceClient:
    def __init__(self, tracking_uri: str, env: dict | None = None, pool_size: int = 16):
        env = os.environ if env is None else env
        self.base = tracking_uri.rstrip("/")
        self.bulk_history = True  # until the source shows it has no bulk history route
        self._ahead: dict[tuple, Future] = {}  # answers asked for in advance (read_ahead)
        self._ahead_open = True
        self._ahead_lock = threading.Lock()
        self.session = requests.Session()
        adapter = QuickAckAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        token = env.get("MLFLOW_TRACKING_TOKEN")
        user, password = env.get("MLFLOW_TRACKING_USERNAME"), env.get("MLFLOW_TRACKING_PASSWORD")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif user and password:
            self.session.auth = (user, password)
        if env.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
            self.session.verify = False
        elif env.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
            self.session.verify = env["MLFLOW_TRACKING_SERVER_CERT_PATH"]
        self._settle_environment()

    def _settle_environment(self) -> None:
        """What requests would read from the process environment on every request (proxies,
        no_proxy, ~/.netrc, REQUESTS_CA_BUNDLE), read once: every URL shares the source's host,
        and the per-request lookup walks the whole environment, a noticeable share of a small
        request's cost."""
        self.session.proxies.update(get_environ_proxies(self.base))
        if self.session.auth is None and "Authorization" not in self.session.headers:
            self.session.auth = get_netrc_auth(self.base)
        if self.session.verify is True:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                self.session.verify = bundle
        self.session.trust_env = False

    # ------------------------------------------------------------------ transport

    def _request(self, method: str, path: str, *, stream: bool = False, **kwargs) -> requests.Response:
        if self._ahead and not stream:
            with self._ahead_lock:
                ahead = self._ahead.pop(_request_key(method, path, kwargs), None)
            if ahead is not None:
                return ahead.result()
        return self._send(method, path, stream=stream, **kwargs)

    def read_ahead(self, method: str, path: str, **kwargs) -> Future | None:
        """Sends the request now, in the background; the next identical request takes its answer
        (or its error) instead of asking again. The future is the answer, its body read; None once
        close_read_ahead was called (the requests are being made for real by then)."""
        future: Future = Future()
        with self._ahead_lock:
            if not self._ahead_open:
                return None
            self._ahead[_request_key(method, path, kwargs)] = future

        def send() -> None:
            try:
                response = self._send(method, path, **kwargs)
                response.content  # noqa: B018 - read the body now, not when it is taken
                future.set_result(response)
            except BaseException as exc:  # noqa: BLE001 - handed to whoever takes the answer
                future.set_exception(exc)

        # A daemon thread: an interrupted import does not wait for an answer nobody will take.
        threading.Thread(target=send, name="import-read-ahead", daemon=True).start()
        return future

    def close_read_ahead(self, drop: bool = False) -> None:
        """No more requests in advance; with drop, forget the answers not taken."""
        with self._ahead_lock:
            self._ahead_open = False
            if drop:
                self._ahead.clear()

    def _send(self, method: str, path: str, *, stream: bool = False, **kwargs) -> requests.Response:
        url = f"{self.base}/{path.lstrip('/')}"
        delay = 0.5
        for attempt in range(RETRIES + 1):
            try:
                response = self.session.request(method, url, timeout=TIMEOUT_S, stream=stream, **kwargs)
            except requests.RequestException as exc:
                if attempt == RETRIES:
                    raise SourceError(f"{method} {path}: {type(exc).__name__}") from None
            else:
                if response.status_code not in RETRY_STATUSES or attempt == RETRIES:
                    return self._checked(method, path, response)
                response.close()
            time.sleep(delay)
            delay = min(delay * 2, 10)
        raise AssertionError("unreachable")

    @staticmethod
    def _checked(method: str, path: str, response: requests.Response) -> requests.Response:
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = body.get("error_code") if isinstance(body, dict) else None
        message = (body.get("message") if isinstance(body, dict) else None) or response.reason
        response.close()
        route = path.split("?", 1)[0]
        if response.status_code == 404 and code is None:
            raise RouteUnavailable(f"{method} {route}: the source does not offer this route", 404)
        raise SourceError(f"{method} {route}: HTTP {response.status_code} {code or ''} {message}".strip(),
                          response.status_code, code)

    def get(self, route: str, **params) -> dict:
        return decoded(self._request("GET", route, params=params))

    def post(self, route: str, body: dict) -> dict:
        return decoded(self._request("POST", route, json=body))

    # ------------------------------------------------------------------ tracking

    def experiments(self) -> Iterator[dict]:
        """Every experiment, active and deleted (GitLab offers only its active ones)."""
        token = None
        while True:
            page = self.post(*self.experiments_request(token))
            yield from page.get("experiments", [])
            token = page.get("next_page_token")
            if not token:
                return

    def run_pages(self, experiment_id: str, page_size: int = 1000) -> Iterator[list[dict]]:
        """The experiment's runs (active and deleted), a page at a time, with their params, tags and
        latest metrics: one request per page, never one per run."""
        token = None
        while True:
            page = self.post(*self.runs_request(experiment_id, token, page_size))
            yield page.get("runs", [])
            token = page.get("next_page_token")
            if not token:
                return

    @staticmethod
    def experiments_request(token: str | None = None) -> tuple[str, dict]:
        body = {"max_results": 1000, "view_type": "ALL"}
        if token:
            body["page_token"] = token
        return "api/2.0/mlflow/experiments/search", body

    @staticmethod
    def runs_request(experiment_id: str, token: str | None = None, page_size: int = 1000) -> tuple[str, dict]:
        body = {"experiment_ids": [experiment_id], "max_results": page_size, "run_view_type": "ALL"}
        if token:
            body["page_token"] = token
        return "api/2.0/mlflow/runs/search", body

    def metric_history(self, run_id: str, key: str, page_size: int = 25_000) -> Iterator[list[dict]]:
        """The metric's points, a page at a time (memory stays flat in the history's length). MLflow
        pages by offset, so each page costs a scan of the ones before: pages are as large as the
        bulk route's; GitLab answers at most 1000 whatever is asked."""
        token = None
        while True:
            params = {"run_id": run_id, "metric_key": key, "max_results": page_size}
            if token:
                params["page_token"] = token
            page = self.get("api/2.0/mlflow/metrics/get-history", **params)
            yield page.get("metrics", [])
            token = page.get("next_page_token")
            if not token:
                return

    def metric_history_bulk(self, run_ids: list[str], key: str, max_results: int) -> list[dict]:
        """Up to max_results points of the key for up to 100 runs, ordered by run id (then by
        timestamp, step, value): the route MLflow's own UI charts with. Each point has its run_id."""
        route, kwargs = self._history_bulk_request(run_ids, key, max_results)
        return decoded(self._request("GET", route, **kwargs)).get("metrics", [])

    def read_ahead_history_bulk(self, run_ids: list[str], key: str, max_results: int) -> Future | None:
        route, kwargs = self._history_bulk_request(run_ids, key, max_results)
        return self.read_ahead("GET", route, **kwargs)

    @staticmethod
    def _history_bulk_request(run_ids: list[str], key: str, max_results: int) -> tuple[str, dict]:
        params = [("run_id", run_id) for run_id in run_ids] + [("metric_key", key), ("max_results", max_results)]
        # On a new connection each: `mlflow server` runs several worker processes, and a kept-alive
        # connection stays with the one that accepted it, so the few connections of an import could
        # leave one worker with most of these heavy requests and another idle. A new connection is
        # accepted by whichever worker gets to it first, usually an idle one.
        return "ajax-api/2.0/mlflow/metrics/get-history-bulk", {"params": params, "headers": {"Connection": "close"}}

    def logged_models(self, experiment_ids: list[str]) -> Iterator[dict]:
        token = None
        while True:
            body = {"experiment_ids": experiment_ids, "max_results": 100}
            if token:
                body["page_token"] = token
            page = self.post("api/2.0/mlflow/logged-models/search", body)
            yield from page.get("models", [])
            token = page.get("next_page_token")
            if not token:
                return

    # ------------------------------------------------------------------ registry

    def registered_models(self) -> Iterator[dict]:
        token = None
        while True:
            params = {"max_results": 1000}
            if token:
                params["page_token"] = token
            page = self.get("api/2.0/mlflow/registered-models/search", **params)
            yield from page.get("registered_models", [])
            token = page.get("next_page_token")
            if not token:
                return

    def registered_model(self, name: str) -> dict:
        return self.get("api/2.0/mlflow/registered-models/get", name=name)["registered_model"]

    def model_versions(self, name: str) -> Iterator[dict]:
        escaped = name.replace("'", "\\'")
        token = None
        while True:
            params = {"filter": f"name='{escaped}'", "max_results": 1000}
            if token:
                params["page_token"] = token
            page = self.get("api/2.0/mlflow/model-versions/search", **params)
            yield from page.get("model_versions", [])
            token = page.get("next_page_token")
            if not token:
                return

    # ------------------------------------------------------------------ artifacts (proxied)

    def list_artifacts(self, path: str) -> list[ArtifactEntry]:
        page = self.get("api/2.0/mlflow-artifacts/artifacts", path=path)
        return [ArtifactEntry(f["path"], bool(f.get("is_dir")), int(f["file_size"]) if f.get("file_size") else None)
                for f in page.get("files", [])]

    def open_artifact(self, path: str) -> requests.Response:
        """A streamed download; the caller reads response.raw and closes it."""
        response = self._request("GET", f"api/2.0/mlflow-artifacts/artifacts/{quote(path)}", stream=True)
        response.raw.decode_content = True
        return response
