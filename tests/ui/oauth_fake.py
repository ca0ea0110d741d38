"""The fake GitLab of tests/fakes, plus what "Sign in with GitLab" needs, as doc/api/oauth2.md
describes it: the OAuth 2 authorization endpoint (the user is already signed in to GitLab and
approves), the token endpoint (checks client, redirect URI, code and PKCE verifier, codes single
use; access tokens expire after `expires_in`; the refresh_token grant "invalidates the existing
access_token and refresh_token" and sends new ones), the revoke endpoint (POST /oauth/revoke with
the client's credentials: 200 `{}` for any token, as RFC 7009 and Doorkeeper answer; revoking an
access token also revokes the refresh token issued with it) and GET /projects (the user's
memberships).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.gitlab_server import FakeGitLabApp, FakeState, _QuietHandler

CLIENT_ID, CLIENT_SECRET = "mltracker-app-id", "mltracker-app-secret"


class OAuthFakeGitLab:
    def __init__(self):
        self.state = FakeState()
        self.api = FakeGitLabApp(self.state)
        self.browser_user: int | None = None  # who is signed in to GitLab in the browser
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self.revoke_requests: list[dict] = []
        self.refresh_tokens: dict[str, dict] = {}  # refresh token → {"user", "access_token", "revoked"}
        self.expires_in = 7200
        self._server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(timeout=10)

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.state.lock:
            if request.path == "/oauth/authorize":
                response = self.authorize(request)
            elif request.path == "/oauth/token" and request.method == "POST":
                response = self.state.throttled() or self.token(request)
            elif request.path == "/oauth/revoke" and request.method == "POST":
                response = self.revoke(request)
            elif request.path == "/api/v4/projects" and request.method == "GET":
                response = self.projects(request)
            else:
                return self.api(environ, start_response)
        return response(environ, start_response)

    def user_token(self, user_id: int, expires_in: int | None = None) -> str:
        token = f"oauth-{user_id}-{secrets.token_hex(8)}"
        self.state.add_token(token, user_id, None if expires_in is None else time.time() + expires_in)
        return token

    def _issue(self, user_id: int, scope: str | None) -> dict:
        access = self.user_token(user_id, self.expires_in)
        refresh = secrets.token_hex(16)
        self.refresh_tokens[refresh] = {"user": user_id, "access_token": access, "revoked": False}
        return {"access_token": access, "token_type": "Bearer", "expires_in": self.expires_in,
                "refresh_token": refresh, "scope": scope, "created_at": int(time.time())}

    def live_tokens_of(self, user_id: int) -> list[str]:
        now = time.time()
        return [t for t, e in self.state.tokens.items() if e["kind"] == "user" and e["user_id"] == user_id
                and not e["revoked"] and (e.get("expires_at") is None or e["expires_at"] > now)]

    def authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return Response("unknown client", status=400)
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return Response("PKCE required", status=400)
        if self.browser_user is None:
            target = {"error": "access_denied", "error_description": "The resource owner denied the request"}
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"user": self.browser_user, "challenge": args["code_challenge"],
                                "redirect_uri": args.get("redirect_uri"), "scope": args.get("scope")}
            target = {"code": code}
        target["state"] = args.get("state", "")
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{urlencode(target)}"})

    def token(self, request: Request) -> Response:
        form = request.form
        self.token_requests.append(dict(form))
        bad = {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Response(json.dumps({"error": "invalid_client"}), status=401, mimetype="application/json")
        if form.get("grant_type") == "refresh_token":
            entry = self.refresh_tokens.get(form.get("refresh_token", ""))
            if entry is None or entry["revoked"]:
                return Response(json.dumps(bad), status=400, mimetype="application/json")
            entry["revoked"] = True
            self.state.tokens[entry["access_token"]]["revoked"] = True
            return Response(json.dumps(self._issue(entry["user"], "read_api")), mimetype="application/json")
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code" \
                or form.get("redirect_uri") != grant["redirect_uri"]:
            return Response(json.dumps(bad), status=400, mimetype="application/json")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return Response(json.dumps(bad), status=400, mimetype="application/json")
        return Response(json.dumps(self._issue(grant["user"], grant["scope"])), mimetype="application/json")

    def revoke(self, request: Request) -> Response:
        form = request.form
        self.revoke_requests.append(dict(form))
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Response(json.dumps({"error": "invalid_client"}), status=401, mimetype="application/json")
        token = form.get("token", "")
        if token in self.state.tokens:
            self.state.tokens[token]["revoked"] = True
        for entry in self.refresh_tokens.values():
            if token in (entry["access_token"],) or self.refresh_tokens.get(token) is entry:
                entry["revoked"] = True
                self.state.tokens[entry["access_token"]]["revoked"] = True
        return Response("{}", mimetype="application/json")

    def projects(self, request: Request) -> Response:
        caller = self.state.caller(request)
        if caller is None or caller[0] != "user":
            return Response(json.dumps({"message": "401 Unauthorized"}), status=401, mimetype="application/json")
        minimum = int(request.args.get("min_access_level", 0))
        found = [self.state.project_body(pid) for pid, p in sorted(self.state.projects.items())
                 if p["members"].get(caller[1], 0) >= max(minimum, 1)]
        return Response(json.dumps(found), mimetype="application/json")
