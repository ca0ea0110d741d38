"""GitLab as the web UI's OAuth 2 provider (doc/api/oauth2.md): the authorization-code exchange
(with PKCE), refreshing an expired access token, and revoking a token on sign-out.

These endpoints live outside /api/v4, so python-gitlab has no call for them; they use the
adapter's HTTP pool and timeout and the same outcomes: GitLabTokenRejected when GitLab refuses the
code, refresh token or client (400/401), GitLabRateLimited on 429, GitLabUnavailable otherwise.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import requests

from mltracker.service.gitlab.client import (
    GitLabAdapter,
    GitLabRateLimited,
    GitLabTokenRejected,
    GitLabUnavailable,
    retry_after_seconds,
)

log = logging.getLogger("mltracker.gitlab")

DEFAULT_EXPIRES_IN_S = 7200  # GitLab's access tokens live two hours


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: int  # Unix time


class GitLabOAuth:
    def __init__(self, adapter: GitLabAdapter, client_id: str, client_secret: str | None):
        self._adapter = adapter
        self._client_id = client_id
        self._client_secret = client_secret or ""

    def authorize_url(self) -> str:
        return f"{self._adapter.url}/oauth/authorize"

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> OAuthTokens:
        return self._tokens("POST /oauth/token (authorization_code)", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        })

    def refresh(self, refresh_token: str, redirect_uri: str) -> OAuthTokens:
        """A new access token (and refresh token); GitLab invalidates the previous pair."""
        return self._tokens("POST /oauth/token (refresh_token)", {
            "grant_type": "refresh_token", "refresh_token": refresh_token, "redirect_uri": redirect_uri,
        })

    def revoke(self, token: str) -> None:
        """POST /oauth/revoke: the access token (and the refresh token issued with it) stop working."""
        self._post("POST /oauth/revoke", "/oauth/revoke", {"token": token})

    # ------------------------------------------------------------ HTTP

    def _tokens(self, what: str, form: dict) -> OAuthTokens:
        body = self._post(what, "/oauth/token", form)
        try:
            expires_in = int(body.get("expires_in") or DEFAULT_EXPIRES_IN_S)
            return OAuthTokens(str(body["access_token"]), body.get("refresh_token") or None,
                               int(time.time()) + expires_in)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise GitLabUnavailable(f"{what}: answer without an access token") from None

    def _post(self, what: str, path: str, form: dict) -> dict:
        data = {"client_id": self._client_id, "client_secret": self._client_secret, **form}
        try:
            response = self._adapter.http.post(self._adapter.url + path, data=data,
                                               timeout=self._adapter.timeout)
        except requests.RequestException as exc:
            log.warning("GitLab %s failed: %s", what, type(exc).__name__)
            raise GitLabUnavailable(f"{what}: {type(exc).__name__}") from None
        if response.status_code == 429:
            raise GitLabRateLimited(f"{what}: 429", retry_after_seconds(response.headers))
        if response.status_code in (400, 401, 403):
            log.warning("GitLab %s refused: %s %s", what, response.status_code, _oauth_error(response))
            raise GitLabTokenRejected(f"{what}: {response.status_code}")
        if response.status_code != 200:
            log.warning("GitLab %s answered %s", what, response.status_code)
            raise GitLabUnavailable(f"{what}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise GitLabUnavailable(f"{what}: unparseable answer") from None
        return body if isinstance(body, dict) else {}


def _oauth_error(response: requests.Response) -> str:
    try:
        return str(response.json().get("error") or "")[:100]
    except (ValueError, AttributeError):
        return ""
