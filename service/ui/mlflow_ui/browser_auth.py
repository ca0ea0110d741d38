"""GitLab mode: MLflow's UI runs in the browser of a user signed in to mltracker and calls the
project's API with that browser's cookies, not with a token. Such a request (and only one that
came through the UI's own paths) is authorized with the signed-in user's GitLab token, by the same
Authorizer as every API request; a request that changes anything must also carry the session's
CSRF token in X-CSRF-Token (the UI sends it from a cookie set with its page)."""
from __future__ import annotations

import hmac

from flask import request, session

from mltracker.service.auth.credentials import USER, Credential
from mltracker.service.auth.policy import READ_METHODS
from mltracker.service.errors import MlflowError
from mltracker.service.ui.gitlab_access import AccessDenied, SignInRequired, signed_in_session, user_token
from mltracker.service.ui.mlflow_ui.paths import from_mlflow_ui
from mltracker.service.ui.security import CSRF_FIELD, CSRF_HEADER


def browser_credential() -> Credential | None:
    if not from_mlflow_ui(request.environ) or signed_in_session() is None:
        return None  # the Authorizer answers 401: sign in
    if request.method not in READ_METHODS:
        expected = session.get(CSRF_FIELD)
        sent = request.headers.get(CSRF_HEADER, "")
        if not expected or not hmac.compare_digest(str(expected), sent):
            raise MlflowError("This request did not come from mltracker's page of MLflow's UI (missing CSRF "
                              "token). Reload the page.", "PERMISSION_DENIED")
    try:
        return Credential(user_token(), USER)
    except SignInRequired:
        return None  # the Authorizer answers 401: sign in again
    except AccessDenied as exc:
        raise MlflowError(str(exc), "TEMPORARILY_UNAVAILABLE") from None
