"""Authentication at the edge, GitLab mode: the API blueprints' hook, and the app's Authorizer.

`install_auth(app, settings)` builds the one Authorizer of the app (the UI asks it too, with the
signed-in user's credential); `authenticate_api_request` is installed by the app factory on the
blueprint that holds the per-project API, and nowhere else.
"""
from __future__ import annotations

from flask import Flask, current_app, g, request

from mltracker.service.api.json_response import json_response
from mltracker.service.auth.authorizer import Authorizer, GitLabBusy, Grant
from mltracker.service.auth.cache import DecisionCache
from mltracker.service.auth.credentials import credential_of
from mltracker.service.auth.policy import required_level
from mltracker.service.context import current_project_id
from mltracker.service.errors import MlflowError
from mltracker.service.gitlab import GitLabAdapter
from mltracker.service.settings import Settings

EXTENSION = "mltracker_auth"
# A callable the web UI may install: the signed-in browser's credential for this API request, or None.
BROWSER_CREDENTIAL = "mltracker_browser_credential"
CHALLENGE = 'Bearer realm="mltracker", Basic realm="mltracker (a GitLab token as password)"'


def build_authorizer(settings: Settings) -> Authorizer:
    adapter = GitLabAdapter(settings.gitlab_url or "", settings.gitlab_token,
                            timeout=settings.gitlab_timeout, max_retries=settings.gitlab_max_retries)
    cache = DecisionCache(ttl_s=settings.auth_cache_ttl, max_entries=settings.auth_cache_size)
    return Authorizer(adapter, cache, unverified_job_level=settings.unverified_job_access_level)


def install_auth(app: Flask, settings: Settings) -> None:
    """GitLab mode: the app's Authorizer. Local mode: none (no authentication)."""
    if not settings.local_mode:
        app.extensions[EXTENSION] = build_authorizer(settings)


def authenticate_api_request():
    """before_request of the per-project API: who is calling, and may they do this here."""
    checker = authorizer()
    if checker is None:
        return None
    try:
        credential = credential_of(request) or _browser_credential()
        g.gitlab_grant = checker.authorize(
            credential, current_project_id(), required_level(request.method, request.path)
        )
    except MlflowError as exc:
        return api_error(exc)
    return None


def _browser_credential():
    source = current_app.extensions.get(BROWSER_CREDENTIAL)
    return source() if source is not None else None


def api_error(exc: MlflowError):
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
    """What this API request was allowed as; None in local mode or outside the per-project API."""
    return g.get("gitlab_grant")
