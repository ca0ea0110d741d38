"""GitLab mode: the signed-in user (a server-side session), their GitLab token (refreshed when it
expires), their access to a project decided by the API's own Authorizer, and the project list —
every GitLab call through service.gitlab."""
from __future__ import annotations

import logging
import time

from flask import current_app, g, session, url_for

from mltracker.service.auth import authorizer
from mltracker.service.auth.credentials import USER, Credential
from mltracker.service.context import services
from mltracker.service.errors import MlflowError
from mltracker.service.gitlab import GitLabNotVisible, GitLabTokenRejected, GitLabUnavailable
from mltracker.service.gitlab.oauth import GitLabOAuth, OAuthTokens
from mltracker.service.ui import sessions
from mltracker.service.ui.sessions import TokenBox, UiSession

log = logging.getLogger("mltracker.ui")

SESSION_ID = "sid"
# A token this close to its expiry is refreshed before use.
REFRESH_MARGIN_S = 60
# Sign-out revokes at most this many of the user's tokens at GitLab inline.
MAX_REVOKED_PER_SIGN_OUT = 10


class SignInRequired(Exception):
    """No (valid) GitLab session: the user must sign in."""


class AccessDenied(Exception):
    def __init__(self, message: str, status: int = 403, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds, when GitLab said how long to wait


def _checker():
    checker = authorizer()
    if checker is None:
        raise AccessDenied("Authentication is not set up on this server.", 503)
    return checker


def _box() -> TokenBox:
    return TokenBox(current_app.secret_key)


def oauth_client() -> GitLabOAuth:
    settings = services().settings
    return GitLabOAuth(_checker().gitlab, settings.gitlab_oauth_client_id or "", settings.gitlab_oauth_client_secret)


def oauth_redirect_uri() -> str:
    return services().settings.base_url + url_for("ui_site.oauth_callback")


# ---------------------------------------------------------------- the session

def start_session(user: dict, tokens: OAuthTokens) -> None:
    """After a successful sign-in: a fresh cookie (and CSRF token) naming a new server-side session."""
    with services().db.write() as conn:
        sessions.sweep_expired(conn)
        session_id = sessions.create(conn, _box(), user, tokens)
    session.clear()
    session[SESSION_ID] = session_id
    g.pop("ui_session", None)


def signed_in_session() -> UiSession | None:
    """This request's live session, or None (loaded once per request)."""
    if "ui_session" in g:
        return g.ui_session
    found = None
    session_id = session.get(SESSION_ID)
    if session_id:
        with services().db.read() as conn:
            found = sessions.load(conn, _box(), session_id)
        if found is None:
            session.pop(SESSION_ID, None)
        elif time.time() - found.last_seen >= sessions.TOUCH_EVERY_S:
            with services().db.write() as conn:
                sessions.touch(conn, found)
    g.ui_session = found
    return found


def user_token() -> str:
    """The signed-in user's GitLab token, refreshed first when it has expired or is about to."""
    found = signed_in_session()
    if found is None:
        raise SignInRequired()
    if found.token_expires - REFRESH_MARGIN_S <= time.time():
        found = _refreshed(found)
    return found.access_token


def _refreshed(found: UiSession) -> UiSession:
    if not found.refresh_token:
        end_session()
        raise SignInRequired()
    try:
        tokens = oauth_client().refresh(found.refresh_token, oauth_redirect_uri())
    except GitLabTokenRejected:
        again = _reload()  # another request of this session may have refreshed it just now
        if again is not None and again.token_expires != found.token_expires:
            return again
        end_session()
        raise SignInRequired() from None
    except GitLabUnavailable as exc:
        raise AccessDenied("GitLab is unavailable, so your sign-in cannot be renewed; retry in a moment.",
                           503, getattr(exc, "retry_after", None)) from None
    with services().db.write() as conn:
        sessions.replace_tokens(conn, _box(), found, tokens)
    return _reload() or found


def _reload() -> UiSession | None:
    g.pop("ui_session", None)
    return signed_in_session()


def end_session() -> None:
    """This browser's session ends here and on every replica (GitLab refused its token)."""
    found = g.get("ui_session")
    session_id = session.pop(SESSION_ID, None)
    if found is not None:
        with services().db.write() as conn:
            sessions.end(conn, found.id_hash)
    elif session_id:
        with services().db.write() as conn:
            sessions.end(conn, sessions.hash_of(session_id))
    g.ui_session = None


def sign_out() -> None:
    """End every session of the signed-in user, on every replica, and revoke their GitLab tokens."""
    found = signed_in_session()
    session.clear()
    g.ui_session = None
    if found is None:
        return
    with services().db.write() as conn:
        tokens = sessions.end_all_of_user(conn, _box(), found.user_id)
    client = oauth_client()
    for token in tokens[:MAX_REVOKED_PER_SIGN_OUT]:
        try:
            client.revoke(token)
        except (GitLabUnavailable, GitLabTokenRejected) as exc:
            log.warning("could not revoke a signed-out user's GitLab token: %s", exc)


# ---------------------------------------------------------------- access to projects

def gitlab_project_access(project_id: int, needed: int) -> tuple[int, str | None]:
    """The signed-in user's access level in the project, and its path ("group/project"), once the
    Authorizer allowed `needed`; SignInRequired or AccessDenied otherwise."""
    token = user_token()
    checker = _checker()
    try:
        grant = checker.authorize(Credential(token, USER), project_id, needed)
    except MlflowError as exc:
        if exc.error_code == "UNAUTHENTICATED":
            end_session()
            raise SignInRequired() from None
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise AccessDenied("This project does not exist, or you do not have access to it.", 404) from None
        if exc.error_code == "PERMISSION_DENIED":
            raise AccessDenied(exc.message, 403) from None
        raise AccessDenied(exc.message, 503, getattr(exc, "retry_after", None)) from None
    return grant.access.level, _project_path(checker, token, project_id)


def _project_path(checker, token: str, project_id: int) -> str | None:
    """path_with_namespace ("group/project"), cached with the Authorizer's decisions."""
    def ask() -> str | None:
        try:
            return checker.gitlab.project(project_id, token).path_with_namespace or None
        except (GitLabUnavailable, GitLabNotVisible, GitLabTokenRejected):
            return None  # the name is cosmetic; the access decision already stands

    return checker.cache.get_or_compute(("path", *Credential(token, USER).cache_key, project_id), ask)


def readable_projects(project_ids: list[int], max_pages: int = 10) -> list[dict]:
    """Which of these projects the user can read: memberships with Reporter+, then the remaining
    ones one by one (public and internal projects are readable by any signed-in user)."""
    from mltracker.service.auth.policy import READ

    token = user_token()
    gitlab = _checker().gitlab
    wanted = set(project_ids)
    found: dict[int, dict] = {}
    try:
        for project in gitlab.member_projects(token, READ, max_pages=max_pages):
            if project.get("id") in wanted:
                found[project["id"]] = project
        for project_id in sorted(wanted - found.keys())[:50]:
            try:
                project = gitlab.project(project_id, token)
            except GitLabNotVisible:
                continue
            if project.visibility in ("public", "internal"):
                found[project_id] = {"id": project.id, "name": project.name,
                                     "path_with_namespace": project.path_with_namespace}
    except GitLabTokenRejected:
        end_session()
        raise SignInRequired() from None
    except GitLabUnavailable as exc:
        raise AccessDenied("GitLab is unavailable, so the list of your projects cannot be made; "
                           "retry in a moment.", 503, getattr(exc, "retry_after", None)) from None
    return [found[i] for i in project_ids if i in found]
