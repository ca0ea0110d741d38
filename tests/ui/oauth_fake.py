"""The fake GitLab of tests/fakes, plus what "Sign in with GitLab" needs: the OAuth 2 authorization
endpoint (the user is already signed in to GitLab and approves), the token endpoint (checks client,
redirect URI, code and PKCE verifier, codes single use) and GET /projects (the user's memberships).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
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
                response = self.token(request)
            elif request.path == "/api/v4/projects" and request.method == "GET":
                response = self.projects(request)
            else:
                return self.api(environ, start_response)
        return response(environ, start_response)

    def user_token(self, user_id: int) -> str:
        token = f"oauth-{user_id}-{secrets.token_hex(8)}"
        self.state.add_token(token, user_id)
        return token

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
        grant = self.codes.pop(form.get("code", ""), None)
        bad = {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Response(json.dumps({"error": "invalid_client"}), status=401, mimetype="application/json")
        if grant is None or form.get("grant_type") != "authorization_code" \
                or form.get("redirect_uri") != grant["redirect_uri"]:
            return Response(json.dumps(bad), status=400, mimetype="application/json")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return Response(json.dumps(bad), status=400, mimetype="application/json")
        body = {"access_token": self.user_token(grant["user"]), "token_type": "Bearer", "expires_in": 7200,
                "refresh_token": secrets.token_hex(16), "scope": grant["scope"], "created_at": 1607635748}
        return Response(json.dumps(body), mimetype="application/json")

    def projects(self, request: Request) -> Response:
        caller = self.state.caller(request)
        if caller is None or caller[0] != "user":
            return Response(json.dumps({"message": "401 Unauthorized"}), status=401, mimetype="application/json")
        minimum = int(request.args.get("min_access_level", 0))
        found = [self.state.project_body(pid) for pid, p in sorted(self.state.projects.items())
                 if p["members"].get(caller[1], 0) >= max(minimum, 1)]
        return Response(json.dumps(found), mimetype="application/json")
