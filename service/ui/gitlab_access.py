"""GitLab mode: the signed-in user's access to a project, decided by the API's own authorizer
(service.auth) with the user's OAuth token from the session; the project list from GitLab."""
from __future__ import annotations

import time

import requests
from flask import session

from mltracker.service.errors import MlflowError
from mltracker.service.settings import Settings

CACHE_SECONDS = 300
MAX_CACHED = 20
TIMEOUT = 10


class SignInRequired(Exception):
    """No (valid) GitLab session: the user must sign in."""


class AccessDenied(Exception):
    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


def user_token() -> str:
    token = session.get("token")
    if not token or session.get("token_expires", 0) < time.time():
        raise SignInRequired()
    return token


def sign_out_locally() -> None:
    for key in ("token", "token_expires", "user", "projects"):
        session.pop(key, None)


def gitlab_project_access(settings: Settings, project_id: int, needed: int):
    from mltracker.service.auth import authorizer
    from mltracker.service.auth.credentials import USER, Credential
    from mltracker.service.ui.access import ProjectAccess

    token = user_token()
    checker = authorizer()
    if checker is None:
        raise AccessDenied("Authentication is not set up on this server.", 503)
    try:
        grant = checker.authorize(Credential(token, USER), project_id, needed)
    except MlflowError as exc:
        if exc.error_code == "UNAUTHENTICATED":
            sign_out_locally()
            raise SignInRequired() from None
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise AccessDenied("This project does not exist, or you do not have access to it.", 404) from None
        if exc.error_code == "PERMISSION_DENIED":
            raise AccessDenied(exc.message, 403) from None
        raise AccessDenied(exc.message, 503) from None
    path = _project_path(checker, token, project_id)
    base = (settings.gitlab_url or "").rstrip("/")
    return ProjectAccess(project_id, path, path or f"Project {project_id}", grant.access.level,
                         f"{base}/{path}" if path else None)


def _project_path(checker, token: str, project_id: int) -> str | None:
    """path_with_namespace, cached in the signed session for a few minutes."""
    cache = session.get("projects") or {}
    hit = cache.get(str(project_id))
    if hit and hit[1] > time.time():
        return hit[0]
    try:
        path = checker.gitlab.project(project_id, token).path_with_namespace or None
    except Exception:  # noqa: BLE001 - the name is cosmetic; the decision above already stands
        return None
    cache = {k: v for k, v in cache.items() if v[1] > time.time()}
    while len(cache) >= MAX_CACHED:
        cache.pop(next(iter(cache)))
    cache[str(project_id)] = [path, time.time() + CACHE_SECONDS]
    session["projects"] = cache
    return path


def api_get(settings: Settings, path: str, params: dict | None = None) -> requests.Response:
    response = requests.get(
        f"{settings.gitlab_url.rstrip('/')}/api/v4{path}",
        headers={"Authorization": f"Bearer {user_token()}"},
        params=params,
        timeout=TIMEOUT,
    )
    if response.status_code == 401:
        sign_out_locally()
        raise SignInRequired()
    return response


def readable_projects(settings: Settings, project_ids: list[int], max_pages: int = 10) -> list[dict]:
    """Which of these projects the user can read: memberships with Reporter+, then the remaining
    ones one by one (public and internal projects are readable by any signed-in user)."""
    wanted = set(project_ids)
    found: dict[int, dict] = {}
    for page in range(1, max_pages + 1):
        response = api_get(settings, "/projects", {
            "membership": "true", "min_access_level": 20, "per_page": 100, "page": page, "simple": "true",
        })
        if response.status_code >= 400:
            break
        batch = response.json()
        for project in batch:
            if project.get("id") in wanted:
                found[project["id"]] = project
        if len(batch) < 100 or not response.headers.get("X-Next-Page"):
            break
    for project_id in sorted(wanted - found.keys())[:50]:
        response = api_get(settings, f"/projects/{project_id}")
        if response.status_code == 200 and response.json().get("visibility") in ("public", "internal"):
            found[project_id] = response.json()
    return [found[i] for i in project_ids if i in found]
