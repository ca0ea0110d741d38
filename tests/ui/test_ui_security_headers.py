"""HTML pages cannot be framed by other sites, and behind a TLS proxy the session cookie is Secure
— with X-Forwarded-Proto believed only when the operator says a proxy is in front
(MLTRACKER_TRUSTED_PROXY_HOPS)."""
from __future__ import annotations

import pytest
import requests

from tests.conftest import run_mltracker
from tests.ui.oauth_fake import CLIENT_ID, CLIENT_SECRET, OAuthFakeGitLab


@pytest.fixture(scope="module")
def fake():
    with OAuthFakeGitLab() as gitlab:
        yield gitlab


def _server(tmp_path_factory, fake, **extra):
    tmp = tmp_path_factory.mktemp("ui-headers")
    env = {"MLTRACKER_GITLAB_URL": fake.url, "MLTRACKER_WEBHOOK_SECRET": "s",
           "MLTRACKER_GITLAB_OAUTH_CLIENT_ID": CLIENT_ID, "MLTRACKER_GITLAB_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
           **extra}
    return run_mltracker(tmp, f"sqlite:///{tmp}/m.db", str(tmp / "artifacts"), extra_env=env, workers=1)


@pytest.fixture(scope="module")
def direct(tmp_path_factory, fake):
    with _server(tmp_path_factory, fake) as server:
        yield server


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory, fake):
    with _server(tmp_path_factory, fake, MLTRACKER_TRUSTED_PROXY_HOPS="1") as server:
        yield server


def _session_cookie(response: requests.Response) -> str:
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("mltracker_session="), response.headers
    return cookie


def test_html_pages_refuse_to_be_framed(direct):
    for path in ("/", "/-/sign-in", "/projects/1/no-such-page"):
        page = requests.get(direct.url + path, headers={"Accept": "text/html"}, allow_redirects=False)
        assert page.headers["Content-Type"].startswith("text/html"), path
        assert page.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"], path


def test_forwarded_proto_is_ignored_without_a_trusted_proxy(direct):
    started = requests.get(direct.url + "/-/sign-in?go=1", headers={"X-Forwarded-Proto": "https"},
                           allow_redirects=False)
    assert started.status_code == 302
    assert "Secure" not in _session_cookie(started)


def test_cookie_is_secure_behind_a_trusted_tls_proxy(behind_proxy):
    started = requests.get(behind_proxy.url + "/-/sign-in?go=1", headers={"X-Forwarded-Proto": "https"},
                           allow_redirects=False)
    assert started.status_code == 302
    cookie = _session_cookie(started)
    assert "; Secure" in cookie and "HttpOnly" in cookie
    plain = requests.get(behind_proxy.url + "/-/sign-in?go=1", headers={"X-Forwarded-Proto": "http"},
                         allow_redirects=False)
    assert "Secure" not in _session_cookie(plain)
