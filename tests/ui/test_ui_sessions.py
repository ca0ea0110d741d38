"""Sign-in sessions live on the server: the cookie names a session and carries no GitLab token,
sign-out ends the user's sessions on every replica and revokes the tokens at GitLab, and expired
GitLab OAuth tokens are refreshed with the refresh token (doc/api/oauth2.md)."""
from __future__ import annotations

import base64
import json
import time
import zlib

import requests

from tests.ui.test_ui_oauth import DORA, PROJECT, RITA, csrf_of, gitlab_env, sign_in  # noqa: F401

PAGE = f"/projects/{PROJECT}/"


def _cookie_payload(session: requests.Session) -> str:
    """The Flask session cookie's readable content (itsdangerous: base64 JSON, maybe zlib'd)."""
    value = session.cookies.get("mltracker_session")
    compressed = value.startswith(".")
    body = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode()


def _copy(session: requests.Session) -> requests.Session:
    thief = requests.Session()
    thief.cookies.update(session.cookies)
    return thief


def test_the_cookie_carries_no_gitlab_token(gitlab_env):
    server, fake = gitlab_env
    browser = sign_in(server, fake, DORA)
    assert browser.get(server.url + PAGE, allow_redirects=False).status_code == 200
    tokens = fake.live_tokens_of(DORA)
    assert tokens
    payload = _cookie_payload(browser)
    assert not any(token in payload for token in tokens), payload
    assert "dora" not in payload  # not even who is signed in: the server keeps it
    assert set(json.loads(payload)) <= {"sid", "csrf_token", "_flashes"}
    assert "group/churn" not in payload


def test_sign_out_ends_every_session_of_the_user_and_revokes_the_tokens(gitlab_env):
    server, fake = gitlab_env
    fake.revoke_requests.clear()
    laptop = sign_in(server, fake, DORA)
    phone = sign_in(server, fake, DORA)
    saved = _copy(laptop)
    other_user = sign_in(server, fake, RITA)
    tokens = fake.live_tokens_of(DORA)
    assert len(tokens) >= 2
    page = laptop.get(server.url + PAGE)
    done = laptop.post(f"{server.url}/-/sign-out", data={"csrf_token": csrf_of(page.text)}, allow_redirects=False)
    assert done.status_code == 302
    for browser in (laptop, saved, phone):  # the saved cookie is worth nothing now
        again = browser.get(server.url + PAGE, allow_redirects=False)
        assert again.status_code == 302 and "/-/sign-in" in again.headers["Location"]
    assert other_user.get(server.url + PAGE, allow_redirects=False).status_code == 200
    revoked = {r["token"] for r in fake.revoke_requests}
    assert set(tokens) <= revoked
    assert fake.live_tokens_of(DORA) == []  # GitLab no longer accepts them either
    # The revoke call authenticates the OAuth application.
    assert all(r["client_id"] and r["client_secret"] for r in fake.revoke_requests)


def test_an_expired_gitlab_token_is_refreshed(gitlab_env):
    server, fake = gitlab_env
    fake.expires_in = 1
    try:
        browser = sign_in(server, fake, DORA)
        (first,) = [t for t in fake.live_tokens_of(DORA)] or [None]
        time.sleep(1.2)  # GitLab now refuses the first access token
        assert fake.live_tokens_of(DORA) == []
        fake.token_requests.clear()
        fake.expires_in = 7200
        page = browser.get(server.url + PAGE, allow_redirects=False)
        assert page.status_code == 200, page.headers.get("Location")
        refreshes = [r for r in fake.token_requests if r["grant_type"] == "refresh_token"]
        assert len(refreshes) == 1
        assert len(fake.live_tokens_of(DORA)) == 1 and first not in fake.live_tokens_of(DORA)
        # The refreshed token is kept: the next page needs no new refresh.
        assert browser.get(server.url + PAGE, allow_redirects=False).status_code == 200
        assert len([r for r in fake.token_requests if r["grant_type"] == "refresh_token"]) == 1
    finally:
        fake.expires_in = 7200


def test_a_refused_refresh_means_signing_in_again(gitlab_env):
    server, fake = gitlab_env
    fake.expires_in = 1
    try:
        browser = sign_in(server, fake, RITA)
        for entry in fake.refresh_tokens.values():  # revoked at GitLab (the user removed the app)
            if entry["user"] == RITA:
                entry["revoked"] = True
        time.sleep(1.2)
        page = browser.get(server.url + PAGE, allow_redirects=False)
        assert page.status_code == 302 and "/-/sign-in" in page.headers["Location"]
    finally:
        fake.expires_in = 7200


def test_gitlab_rate_limiting_a_page_is_a_503_with_its_wait(gitlab_env):
    server, fake = gitlab_env
    browser = sign_in(server, fake, DORA, next_path="/")
    fake.state.add_project(77, "private", {DORA: 30}, name="fresh")  # no cached decision for it yet
    fake.state.rate_limit(retry_after=40)
    try:
        page = browser.get(f"{server.url}/projects/77/", allow_redirects=False, timeout=20)
    finally:
        fake.state.rate_limit(retry_after=1, count=0)
    assert page.status_code == 503 and page.headers["Retry-After"] == "40"
    assert "GitLab" in page.text and "text/html" in page.headers["Content-Type"]
