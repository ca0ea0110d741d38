"""Session signing key, CSRF tokens, safe redirects and the security headers of the web UI.

The Flask session is a signed cookie (HttpOnly, SameSite=Lax, Secure when served over https) that
holds a session id and the CSRF token; the session itself is in the database (ui/sessions.py), so
any replica can serve any request once they share the key. A request counts as https when it
reached us over TLS, or when a proxy we were told to trust (MLTRACKER_TRUSTED_PROXY_HOPS, applied
by werkzeug's ProxyFix in the app factory) says so in X-Forwarded-Proto; otherwise that header is
ignored.
"""
from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, abort, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

from mltracker.service.settings import Settings

SECRET_FILE = "secret_key"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def load_secret_key(settings: Settings) -> str:
    """MLTRACKER_SECRET_KEY, else a key generated once into the data dir (shared by the workers of
    one host; several hosts must set MLTRACKER_SECRET_KEY)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written whole to a private file, then linked into place: a worker that loses the race reads
    # the winner's complete key, never a file still being written (which would give it another key).
    draft = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    try:
        os.link(draft, path)
    except FileExistsError:  # another worker won the race
        return path.read_text().strip()
    finally:
        draft.unlink()
    return key


def configure_sessions(app: Flask, settings: Settings) -> None:
    app.secret_key = load_secret_key(settings)
    app.config.update(
        SESSION_COOKIE_NAME="mltracker_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
    )

    app.session_interface = _SessionCookie()


class _SessionCookie(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over https (also when a
    trusted proxy terminated TLS), not only when the configured public URL is https."""

    def open_session(self, app: Flask, request):
        # A request without cookies (every API call of the MLflow client) gets Flask's new, empty
        # session without building the signing serializer and parsing cookies first.
        if "HTTP_COOKIE" not in request.environ and app.secret_key:
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


FRAME_ANCESTORS = "frame-ancestors 'none'"


def install_security_headers(app: Flask) -> None:
    """No page of ours may be framed by another site (clickjacking), and no answer is sniffed
    into another type."""
    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers["X-Frame-Options"] = "DENY"
            policy = response.headers.get("Content-Security-Policy")
            if not policy:
                response.headers["Content-Security-Policy"] = FRAME_ANCESTORS
            elif "frame-ancestors" not in policy:
                response.headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; {FRAME_ANCESTORS}"
        return response


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Every state-changing UI request carries the session's token (form field or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(CSRF_FIELD)
    # Without a token in the session nothing can match: refuse before reading (parsing) the body.
    sent = (request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or "") if expected else ""
    if not expected or not hmac.compare_digest(str(expected), str(sent)):
        abort(400, description="The form expired or did not come from this site (missing CSRF token). "
                               "Reload the page and try again.")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths may be redirected to after sign-in."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
