"""Root pages: static files, "Sign in with GitLab" (OAuth 2 authorization code + PKCE), sign-out,
and in GitLab mode the list of projects the user can read."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy import distinct, select

from mltracker.service.context import services
from mltracker.service.db.schema import experiments
from mltracker.service.tracking.experiments import ACTIVE
from mltracker.service.ui.access import current_viewer, local_mode
from mltracker.service.auth import authorizer
from mltracker.service.gitlab import GitLabTokenRejected, GitLabUnavailable
from mltracker.service.ui.gitlab_access import (
    AccessDenied,
    SignInRequired,
    oauth_client,
    oauth_redirect_uri,
    readable_projects,
    sign_out as end_all_sessions,
    start_session,
)
from mltracker.service.ui.security import check_csrf, safe_next

bp = Blueprint("ui_site", __name__, template_folder="templates", static_folder="static",
               static_url_path="/-/static")

SCOPES = "read_api"


def _error(status: int, title: str, message: str, hint: str | None = None):
    return render_template("ui/error.html", status=status, title=title, message=message, hint=hint), status


@bp.before_request
def _csrf():
    check_csrf()


def projects():
    """GitLab mode ("/"): the projects with experiments that the signed-in user can read."""
    if not current_viewer().signed_in:
        return render_template("ui/sign_in.html", configured=_oauth_configured(), next="/")
    with services().db.read() as conn:
        ids = list(conn.execute(
            select(distinct(experiments.c.project_id)).where(experiments.c.lifecycle_stage == ACTIVE)
            .order_by(experiments.c.project_id)
        ).scalars())
    try:
        found = readable_projects(ids)
    except SignInRequired:
        return redirect(url_for("ui_site.sign_in", next="/"))
    except AccessDenied as exc:
        return _error(exc.status, "GitLab is unavailable", str(exc))
    return render_template("ui/projects.html", projects=found, tracking_base=services().settings.base_url)


def _oauth_configured() -> bool:
    settings = services().settings
    return bool(settings.gitlab_url and settings.gitlab_oauth_client_id)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@bp.get("/-/sign-in")
def sign_in():
    settings = services().settings
    next_url = safe_next(request.args.get("next"))
    if local_mode():
        return redirect(next_url)
    if not _oauth_configured():
        return _error(
            503, "Sign-in is not configured",
            "This mltracker has no GitLab OAuth application.",
            "An administrator creates one in GitLab (scope read_api, redirect URI "
            f"{oauth_redirect_uri()}) and sets MLTRACKER_GITLAB_OAUTH_CLIENT_ID and MLTRACKER_GITLAB_OAUTH_CLIENT_SECRET.",
        )
    if request.args.get("go") != "1":
        return render_template("ui/sign_in.html", configured=True, next=next_url)
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    session["oauth"] = {"state": state, "verifier": verifier, "next": next_url}
    query = urlencode({
        "client_id": settings.gitlab_oauth_client_id,
        "redirect_uri": oauth_redirect_uri(),
        "response_type": "code",
        "scope": SCOPES,
        "state": state,
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
    })
    return redirect(f"{oauth_client().authorize_url()}?{query}")


@bp.get("/-/oauth/callback")
def oauth_callback():
    if local_mode():
        return redirect("/")
    pending = session.pop("oauth", None)
    state = request.args.get("state", "")
    if not pending or not hmac.compare_digest(pending["state"], state):
        return _error(400, "Sign-in failed", "The sign-in request expired or did not start here.",
                      "Start again from the Sign in button.")
    if request.args.get("error"):
        return _error(403, "Sign-in cancelled",
                      f"GitLab did not sign you in: {request.args.get('error_description') or request.args['error']}.",
                      "Try again, and authorize the application when GitLab asks.")
    code = request.args.get("code")
    if not code:
        return _error(400, "Sign-in failed", "GitLab sent no authorization code.", "Start again from Sign in.")
    try:
        tokens = oauth_client().exchange_code(code, oauth_redirect_uri(), pending["verifier"])
        gitlab_user, profile = authorizer().gitlab.current_user_profile(tokens.access_token)
    except GitLabTokenRejected:
        return _error(502, "Sign-in failed", "GitLab refused the authorization code.",
                      "Start again; if it keeps failing, an administrator should check the OAuth application.")
    except GitLabUnavailable:
        return _error(502, "Sign-in failed", "GitLab could not be reached.", "Try again in a moment.")
    user = {k: profile.get(k) for k in ("name", "avatar_url", "web_url")}
    user.update(id=gitlab_user.id, username=gitlab_user.username)
    start_session(user, tokens)
    return redirect(pending["next"])


@bp.post("/-/sign-out")
def sign_out():
    if not local_mode():
        end_all_sessions()
    return redirect("/")
