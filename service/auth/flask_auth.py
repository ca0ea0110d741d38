"""install_auth(app, settings): every request under /projects/<id>/… authenticated in GitLab mode."""
from __future__ import annotations

import json
import re

from flask import Flask, current_app, g, request

from mltracker.service.api.json_response import json_response
from mltracker.service.auth.authorizer import Authorizer, GitLabBusy, Grant
from mltracker.service.auth.cache import DecisionCache
from mltracker.service.auth.credentials import credential_of
from mltracker.service.auth.policy import required_level
from mltracker.service.errors import MlflowError
from mltracker.service.gitlab import GitLabAdapter
from mltracker.service.settings import Settings

EXTENSION = "mltracker_auth"
PROJECT_PATH = re.compile(r"^/projects/(\d+)(?:/|$)")
ROOT_API_PATH = re.compile(r"^/(?:ajax-)?api/")
CHALLENGE = 'Bearer realm="mltracker", Basic realm="mltracker (a GitLab token as password)"'


def build_authorizer(settings: Settings) -> Authorizer:
    adapter = GitLabAdapter(settings.gitlab_url or "", settings.gitlab_token,
                            timeout=settings.gitlab_timeout, max_retries=settings.gitlab_max_retries)
    cache = DecisionCache(ttl_s=settings.auth_cache_ttl, max_entries=settings.auth_cache_size)
    return Authorizer(adapter, cache, unverified_job_level=settings.unverified_job_access_level)


def install_auth(app: Flask, settings: Settings) -> None:
    """Local mode: nothing. GitLab mode: authenticate and authorise every /projects/<id>/ request,
    and answer root API paths with a hint (the API is only served per project)."""
    if settings.local_mode:
        return
    authorizer = build_authorizer(settings)
    app.extensions[EXTENSION] = authorizer

    @app.before_request
    def _authenticate():
        match = PROJECT_PATH.match(request.path)
        if match is None:
            if request.url_rule is None and ROOT_API_PATH.match(request.path):
                return _error(MlflowError(
                    "This server runs in GitLab mode: the API is served per project. Use "
                    "MLFLOW_TRACKING_URI=<server>/projects/<gitlab-project-id>.", "ENDPOINT_NOT_FOUND"))
            return None
        project_id = int(match.group(1))
        try:
            g.gitlab_grant = authorizer.authorize(
                credential_of(request), project_id, required_level(request.method, request.path)
            )
            _ensure_default_experiment(project_id)
        except MlflowError as exc:
            return _error(exc)
        return None


def _error(exc: MlflowError):
    response = json_response(exc.to_dict(), exc.http_status)
    if exc.error_code == "UNAUTHENTICATED":
        response.headers["WWW-Authenticate"] = CHALLENGE
    if isinstance(exc, GitLabBusy) and exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def authorizer() -> Authorizer | None:
    """The app's authorizer; None in local mode."""
    return current_app.extensions.get(EXTENSION)


def current_grant() -> Grant | None:
    """What this request was allowed as; None in local mode or outside /projects/<id>/."""
    return g.get("gitlab_grant")


# MLflow clients use experiment "0" when none is set; in a GitLab project it means that project's
# own "Default" experiment, created on first use.
_DEFAULT_EXPERIMENT_ENDPOINTS = {"create_run", "get_experiment"}


def _ensure_default_experiment(project_id: int) -> None:
    endpoint = request.endpoint or ""
    if endpoint.rsplit(".", 1)[-1] not in _DEFAULT_EXPERIMENT_ENDPOINTS:
        return
    if endpoint.rsplit(".", 1)[-1] == "create_run":
        try:
            body = json.loads(request.get_data(cache=True) or b"{}")
            if isinstance(body, str):
                body = json.loads(body)
        except ValueError:
            return  # the endpoint answers the malformed body itself
        raw = body.get("experiment_id") if isinstance(body, dict) else None
    else:
        raw = request.args.get("experiment_id")
    if raw not in (None, "", "0", 0):
        return
    from mltracker.service.context import services
    from mltracker.service.tracking.experiments import DEFAULT_EXPERIMENT_NAME, ensure_default_experiment
    from sqlalchemy import select

    from mltracker.service.db.schema import experiments

    db = services().db
    with db.read() as conn:
        found = conn.execute(
            select(experiments.c.experiment_id).where(
                experiments.c.project_id == project_id, experiments.c.name == DEFAULT_EXPERIMENT_NAME
            )
        ).first()
    if found is None:
        try:
            with db.write() as conn:
                ensure_default_experiment(conn, project_id, use_alias_id=False)
        except MlflowError as exc:  # created concurrently by another request
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
