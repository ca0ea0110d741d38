"""The Flask application factory."""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from mltracker.service.api import experiments, metrics, runs, server_info
from mltracker.service.api.client_watch import install_client_watch
from mltracker.service.api.request import refuse_unstorable_query_text
from mltracker.service.api.request_body import settle_unread_body
from mltracker.service.api.errors import install_database_error_handler, install_error_handlers
from mltracker.service.api.hot_writes import install_hot_writes
from mltracker.service.api.routing import install_project_scope, install_root_api_hint, mount, project_api_blueprint
from mltracker.service.artifacts.download_links import LinkSigner
from mltracker.service.artifacts.factory import storage_from_destination
from mltracker.service.artifacts.local import LocalStorage
from mltracker.service.artifacts.sweeper import start_upload_sweeper
from mltracker.service.auth import authenticate_api_request, install_auth
from mltracker.service.context import Services
from mltracker.service.db.engine import Database
from mltracker.service.errors import MlflowError
from mltracker.service.extensions import load_extensions
from mltracker.service.gate import api as gate_api
from mltracker.service.registry_webhooks import runtime as registry_webhooks_runtime
from mltracker.service.settings import Settings, settings_from_env
from mltracker.service.ui import install_ui
from mltracker.service.ui.security import load_secret_key
from mltracker.service.store_setup import prepare_database

TRACKING_PREFIXES = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"]
ARTIFACT_PREFIXES = ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"]
V3_PREFIXES = ["/api/3.0/mlflow", "/ajax-api/3.0/mlflow"]
GATE_PREFIXES = ["/api/mltracker"]


_MAX_REMEMBERED_CALLABLES = 512


class _App(Flask):
    """Flask asks `inspect` whether each hook and view is a coroutine function, for every request
    (some ten times); the answer never changes, so it is kept (for the app's own functions; a
    per-request callback such as after_this_request's is a new object each time, hence the cap)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_callables: dict = {}

    def ensure_sync(self, func):
        try:
            return self._sync_callables[func]
        except KeyError:
            pass
        except TypeError:  # not hashable
            return super().ensure_sync(func)
        found = super().ensure_sync(func)
        if len(self._sync_callables) < _MAX_REMEMBERED_CALLABLES:
            self._sync_callables[func] = found
        return found


def create_app(settings: Settings | None = None, *, upgrade_schema: bool | None = None) -> Flask:
    settings = settings or settings_from_env()
    app = _App(__name__)
    if settings.trusted_proxy_hops > 0:
        # X-Forwarded-For/-Proto/-Host/-Port believed only from the configured number of proxies.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.url_map.merge_slashes = False  # an encoded "/" (%2F) must not silently become a different path
    app.before_request(_refuse_empty_path_segments)
    app.before_request(refuse_unstorable_query_text)
    app.config["MLTRACKER_LOCAL_MODE"] = settings.local_mode
    # Every body is read through a stream that stops at the limit, chunked or not (Werkzeug raises
    # 413); artifact uploads set their own limit (request_body.request_body).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_body or None
    app.config["MAX_FORM_MEMORY_SIZE"] = 16 * 1024 * 1024

    db = Database.from_settings(settings)
    if settings.auto_upgrade if upgrade_schema is None else upgrade_schema:
        prepare_database(db, settings)
    artifacts = storage_from_destination(settings.artifacts_destination, settings.s3)
    webhook_deliveries = registry_webhooks_runtime.delivery_config(settings)
    app.extensions["mltracker"] = Services(settings=settings, db=db, artifacts=artifacts,
                                           registry_webhooks=webhook_deliveries,
                                           download_links=LinkSigner(load_secret_key(settings)))
    if settings.run_jobs_in_process:
        registry_webhooks_runtime.start_worker(db, webhook_deliveries)
    if isinstance(artifacts, LocalStorage):
        start_upload_sweeper(artifacts.root, settings.upload_temp_max_age, settings.upload_sweep_interval)

    install_project_scope(app)
    install_error_handlers(app)
    install_client_watch(app)
    app.after_request(settle_unread_body)
    install_database_error_handler(app)
    install_auth(app, settings)
    project_api = project_api_blueprint()
    if not settings.local_mode:
        project_api.before_request(authenticate_api_request)
        install_root_api_hint(app)
    _mount_api(app, project_api)
    mount(app, project_api, gate_api.bp, GATE_PREFIXES)
    app.register_blueprint(project_api)
    install_ui(app, settings)
    for extension in load_extensions():
        extension.install(app, db, settings, start_worker=settings.run_jobs_in_process)
    install_hot_writes(app)
    logging.getLogger("mltracker").setLevel(logging.INFO)
    return app


def _refuse_empty_path_segments():
    """`…/artifacts//etc/passwd` names an absolute path: refuse it rather than 404 or redirect."""
    if "//" in request.path:
        raise MlflowError("Invalid path: empty path segment", "INVALID_PARAMETER_VALUE")


def _mount_api(app: Flask, project_api: Blueprint) -> None:
    from mltracker.service.api import (
        artifact_list, artifacts, evaluation_datasets, gateway, gateway_proxy, logged_models, otlp, presigned_downloads,
        promptlab, registry, registry_webhooks, scorers, traces, ui_artifacts,
    )
    from mltracker.service.api.graphql import view as graphql

    for blueprint in (experiments.bp, runs.bp, metrics.bp, artifact_list.bp, registry.bp, registry_webhooks.bp,
                      logged_models.bp, ui_artifacts.uploads, promptlab.bp, gateway_proxy.bp):
        mount(app, project_api, blueprint, TRACKING_PREFIXES)
    mount(app, project_api, artifacts.bp, ARTIFACT_PREFIXES)
    mount(app, project_api, presigned_downloads.bp, ARTIFACT_PREFIXES)
    app.register_blueprint(presigned_downloads.links)  # signed links carry their own authorization
    mount(app, project_api, traces.bp, TRACKING_PREFIXES + V3_PREFIXES)
    mount(app, project_api, traces.artifacts_bp, ["/ajax-api/2.0/mlflow", "/ajax-api/3.0/mlflow"])
    mount(app, project_api, otlp.bp, [""])  # /v1/traces, next to the tracking URI as OTLP puts it
    mount(app, project_api, ui_artifacts.downloads, [""])  # /get-artifact sits next to MLflow's UI
    mount(app, project_api, graphql.bp, [""])

    v3 = Blueprint("v3", __name__)
    v3.add_url_rule("/server-info", view_func=server_info.server_info)
    mount(app, project_api, v3, V3_PREFIXES)
    for blueprint in (evaluation_datasets.bp, scorers.bp, gateway.bp):
        mount(app, project_api, blueprint, V3_PREFIXES)
    app.register_blueprint(server_info.bp)
